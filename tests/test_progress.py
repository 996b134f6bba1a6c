"""Progress on a terminal: files done and the check under way, redrawn in place on
standard error and cleared at the end; nothing of it on a pipe, in a file or in CI.
Run for real, with standard error on a pseudo-terminal (the pty module)."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.progress import Display
from tests.conftest import MODELS, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
CLEAR = b"\r\x1b[K"
FILES = 48
LINE = re.compile(rb"\r\x1b\[Ktopocheck: (\d+)/(\d+) files(?:; ([^\r]*))?")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("many")
    for index in range(FILES):
        shutil.copy(MODELS / "seed" / "05-multi-datacenter.topo", out / f"m{index:02}.topo")
    return out


def run(args: list[str], *, tty: bool, after: str = "0", ci: bool = False,
        columns: int = 200) -> tuple[int, bytes, bytes]:
    """``python -m checker ARGS`` with standard error on a pseudo-terminal (or a pipe);
    its exit status, standard output and everything written to standard error."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TERM")}
    env["TOPOCHECK_PROGRESS_AFTER"] = after
    if ci:
        env["CI"] = "true"
    if not tty:
        done = subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        return done.returncode, done.stdout, done.stderr
    import pty

    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    child = subprocess.Popen([sys.executable, "-m", "checker", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed (Linux)
                data = b""
            if not data:
                break
            err += data
        elif child.poll() is not None:
            break
    out = child.stdout.read()
    child.wait(timeout=300)
    os.close(master)
    return child.returncode, out, err


@pytest.mark.parametrize("mode", [["-j", "1", "--max-memory", "0"], ["-j", "2"]], ids=["in-process", "workers"])
def test_progress_on_a_terminal_is_redrawn_and_cleared(folder: Path, mode: list[str]) -> None:
    code, out, err = run(["check", *mode, str(folder)], tty=True)
    assert code == 0
    lines = LINE.findall(err)
    assert lines, err
    assert all(total == str(FILES).encode() for _, total, _ in lines)
    done = [int(d) for d, _, _ in lines]
    assert done == sorted(done) and done[-1] <= FILES
    assert all(re.fullmatch(rb"\S+/m\d\d\.topo(: [a-z-]+)? \(\d+s\)(, \d+ more at work)?", current)
               for _, _, current in lines if current), lines
    assert err.endswith(CLEAR) and b"\n" not in err  # redrawn in place, cleared at the end
    assert out == run(["check", *mode, str(folder)], tty=False)[1]  # the report is the same bytes


@pytest.mark.parametrize("mode", [["-j", "1", "--max-memory", "0"], ["-j", "2"]], ids=["in-process", "workers"])
def test_the_line_names_the_check_under_way(tmp_path: Path, mode: list[str]) -> None:
    """Files whose checks take most of their time (a generated application of 1,000
    components: several tenths of a second of checks each): some redraw, every 0.1 s,
    names the check under way. (The seed files are checked in a few milliseconds, most
    of it not in a check, so a redraw there may well never land in one; at 300
    components, once the checks got faster, a fresh machine's run once saw none.)"""
    from benchmarks.generate import generate

    text = generate(1000)
    files = tmp_path / "files"
    files.mkdir()
    for index in range(6):
        (files / f"g{index}.topo").write_text(text, encoding="utf-8")
    # (the report to a file: the helper reads standard output only at the end, and this
    # one is larger than a pipe holds)
    code, _, err = run(["check", *mode, "--output", str(tmp_path / "report.txt"), str(files)], tty=True)
    assert code == 1  # the generator plants faults
    lines = LINE.findall(err)
    assert any(re.search(rb"g\d\.topo: [a-z-]+ \(\d+s\)", current) for _, _, current in lines), lines


def test_the_line_never_wraps(folder: Path) -> None:
    err = run(["check", str(folder)], tty=True, columns=30)[2]
    drawn = [line for line in err.split(b"\r\x1b[K") if line]
    assert drawn and all(len(line) <= 29 for line in drawn), drawn


def test_nothing_in_ci_on_a_pipe_or_before_the_delay(folder: Path) -> None:
    assert run(["check", str(folder)], tty=True, ci=True)[2] == b""
    assert run(["check", str(folder)], tty=False)[2] == b""
    assert run(["check", str(folder / "m00.topo")], tty=True, after="30")[2] == b""


def test_the_line_names_the_file_at_work_longest() -> None:
    display = Display(sys.stderr, ["a.topo", "b.topo", "c.topo"], after=0)
    display.event("file", 0, None)
    display.event("file", 1, None)
    display.event("check", 1, "no-spof")
    display.event("check", None, "available")  # this process's own file: the last started
    display.event("done", 0, None)
    assert re.fullmatch(r"topocheck: 1/3 files; b\.topo: available \(\d+s\)", display.line(display.started))
    display.event("file", 2, None)
    assert display.line(display.started).endswith(", 1 more at work")
