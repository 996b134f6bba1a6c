"""Configuration files: found upward, validated, applied per path; a bad one exits 2."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.checks import known_params
from checker.cli import main
from checker.config import ConfigError, find_config, load_config

GOOD = """\
dns www { managed; answer web1 }
web web1 address 203.0.113.5 listen tcp/443
allow internet -> web1 tcp/443
"""


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def ids_run(path: Path, *extra: str) -> dict[str, list[str]]:
    code, out, err = run(["check", "--format", "json", *extra, str(path)])
    assert code in (0, 1), err
    return {f["path"]: [r["id"] for r in f["results"]] for f in json.loads(out)["files"]}


def test_topocheck_toml_found_upward_with_select_ignore_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "topocheck.toml").write_text(
        'select = ["available", "private-web", "no-spof"]\nignore = ["no-spof"]\n'
        '[[overrides]]\npaths = ["legacy/*.topo"]\nignore = ["private-web"]\n', encoding="utf-8")
    (tmp_path / "legacy").mkdir()
    for name in ("a.topo", "legacy/b.topo"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    found = ids_run(tmp_path)
    a, b = str(tmp_path / "a.topo"), str(tmp_path / "legacy" / "b.topo")
    assert found[a] == ["available", "private-web"]
    assert found[b] == ["available"]
    # --select replaces the configured selection; --ignore adds to it
    assert ids_run(tmp_path / "a.topo", "--select", "available,no-spof")[a] == ["available"]
    assert ids_run(tmp_path / "a.topo", "--ignore", "private-web")[a] == ["available"]


def test_pyproject_tool_table_and_the_nearest_config_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.topocheck]\nselect = ["available"]\nk = 2\n', encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")  # no tool table: passed over
    assert find_config(sub / "x.topo") == tmp_path / "pyproject.toml"
    (sub / "topocheck.toml").write_text('select = ["available", "private-web"]\n', encoding="utf-8")
    assert find_config(sub / "x.topo") == sub / "topocheck.toml"
    config = load_config(tmp_path / "pyproject.toml", known_params())
    assert config.settings_for(tmp_path / "x.topo").k == 2


@pytest.mark.parametrize("content, message", [
    ('selec = ["available"]\n', "unknown key 'selec'; did you mean 'select'?"),
    ('select = "available"\n', "'select' must be a list of check ids"),
    ('ignore = ["no-such-check"]\n', "'ignore' names unknown check 'no-such-check'"),
    ("k = 0\n", "'k' must be a whole number of at least 1"),
    ("timeout = -1\n", "'timeout' must be a number of seconds greater than 0 and at most 86,400, not -1"),
    ("select = [\n", "is not valid TOML"),
    ('[[overrides]]\nignore = ["no-spof"]\n', "'overrides[0].paths' must be a non-empty list"),
    ('[tool.topocheck]\nselect = ["available"]\n', "'[tool.topocheck]' is the pyproject.toml form; in "
     "topocheck.toml the keys go at the top level: delete the '[tool.topocheck]' line (and write "
     "'[[overrides]]' for '[[tool.topocheck.overrides]]')"),
])
def test_bad_config_is_a_clear_error_with_exit_2(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "topocheck.toml").write_text(content, encoding="utf-8")
    (tmp_path / "a.topo").write_text(GOOD, encoding="utf-8")
    code, out, err = run(["check", str(tmp_path)])
    assert code == 2 and out == ""
    assert message in err and "topocheck.toml" in err and "Traceback" not in err
    with pytest.raises(ConfigError):
        load_config(tmp_path / "topocheck.toml", known_params())


def test_explicit_config_option(tmp_path: Path) -> None:
    config = tmp_path / "ci.toml"
    config.write_text('select = ["available"]\n', encoding="utf-8")
    (tmp_path / "a.topo").write_text(GOOD, encoding="utf-8")
    assert ids_run(tmp_path / "a.topo", "--config", str(config))[str(tmp_path / "a.topo")] == ["available"]
    assert run(["check", "--config", str(tmp_path / "none.toml"), str(tmp_path)])[0] == 2
