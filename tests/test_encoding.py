"""Encodings and paths: each odd input is a clear, located message, and the
other files of the run are still checked."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.api import load_text
from checker.cli import main

GOOD = "web w address 203.0.113.1 listen tcp/443\n"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_non_utf8_is_a_located_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.topo"
    bad.write_bytes("zone a\nweb w zone a # caf\xe9\n".encode("latin-1"))
    (tmp_path / "ok.topo").write_text(GOOD)
    code, out, err = run(["check", str(tmp_path)])
    assert code == 1
    assert f"{bad}:2:19: error[syntax] the file is not UTF-8 text: byte 0xe9 cannot be decoded" in out
    assert "hint: save the file as UTF-8" in out
    assert f"{tmp_path / 'ok.topo'}: 1 proved" in out or f"{tmp_path / 'ok.topo'}: " in out


def test_bom_is_ignored_and_positions_are_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "bom.topo"
    path.write_bytes(b"\xef\xbb\xbfweb w zone nowhere\n")
    code, out, _ = run(["check", str(path)])
    assert code == 1 and f"{path}:1:12: error[undefined-name] undefined zone 'nowhere'" in out


def test_crlf_and_tabs_give_the_same_model_and_columns() -> None:
    plain = load_text("zone a\nweb w zone a\nweb v zone b\n", "p.topo")
    crlf = load_text("zone a\r\n\tweb\tw zone a\r\nweb v zone b\r\n", "c.topo")
    assert [(r.id, r.span.line, r.span.column) for r in crlf.results] == [("undefined-name", 3, 12)]
    assert [(r.id, r.span.line, r.span.column) for r in plain.results] == [("undefined-name", 3, 12)]


def test_a_stray_nul_or_control_character_is_located() -> None:
    loaded = load_text("zone a\nweb w\x00 zone a\n", "n.topo")
    assert [(r.id, r.span.line, r.span.column) for r in loaded.results] == [("syntax", 2, 6)]


def test_very_long_lines() -> None:
    names = ", ".join(f"w{i}" for i in range(20000))
    text = "".join(f"web w{i}\n" for i in range(20000)) + f"allow {names} -> {names} tcp/80\n"
    loaded = load_text(text, "long.topo")
    assert loaded.topology is not None and len(loaded.topology.rules[0].sources) == 20000
    bad = load_text("web w " + "address 10.0.0.1 " * 5000 + "zone\n", "bad.topo")
    (error,) = bad.results
    assert error.id == "syntax" and error.span.line == 1 and error.span.column > 80000


def test_symlink_loop_and_broken_link_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "ok.topo").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a folder loop: not followed
    os.symlink(tmp_path / "self.topo", tmp_path / "self.topo")  # a link to itself
    os.symlink(tmp_path / "gone", tmp_path / "broken.topo")
    code, out, err = run(["check", str(tmp_path)])
    assert code == 2  # unreadable paths
    assert f"{tmp_path / 'broken.topo'}:1:1: error[io-error] cannot read '{tmp_path / 'broken.topo'}': No such file" in out
    assert f"{tmp_path / 'self.topo'}:1:1: error[io-error] cannot read '{tmp_path / 'self.topo'}': Too many levels" in out
    assert f"{tmp_path / 'ok.topo'}: " in out and "Traceback" not in err


def test_fifo_named_topo_is_not_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "pipe.topo"
    os.mkfifo(fifo)  # reading it would block forever
    (tmp_path / "ok.topo").write_text(GOOD)
    code, out, _ = run(["check", str(tmp_path)])
    assert code == 2
    assert f"{fifo}:1:1: error[io-error] cannot read '{fifo}': it is not a regular file" in out
    assert f"{tmp_path / 'ok.topo'}: " in out


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.topo"
    path.write_text(GOOD)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reading (the FIFO test covers io-error)")
        code, out, _ = run(["check", str(path)])
        assert code == 2 and f"{path}:1:1: error[io-error] cannot read '{path}': Permission denied" in out
    finally:
        path.chmod(0o644)


def test_a_folder_named_like_a_file_and_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "dir.topo").mkdir()
    (tmp_path / "dir.topo" / "inner.topo").write_text(GOOD)
    code, out, err = run(["check", str(tmp_path), str(tmp_path / "missing.topo")])
    assert code == 2
    assert "no such file or folder" in err and f"{tmp_path / 'dir.topo' / 'inner.topo'}: " in out
