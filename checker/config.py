"""Configuration: ``topocheck.toml`` or ``[tool.topocheck]`` in ``pyproject.toml``.

The configuration of a checked file is the first found walking up from the
folder that holds it (the folder of the link, for a symbolic link), no higher
than the repository root (the first folder with a ``.git``) or else the
filesystem root: in each folder, ``topocheck.toml`` (its top level is the
configuration) wins over a ``pyproject.toml`` that has a ``[tool.topocheck]``
table (a ``pyproject.toml`` without one is passed over). A file that is not a
regular file (a FIFO) is never opened; one over ``MAX_CONFIG_BYTES`` is an
error. Keys::

    select = ["no-spof", "private-web"]   # run only these checks
    ignore = ["private-db"]               # never run these
    k = 2                                 # default k for checks that take one
    timeout = 30                          # wall seconds for each file's whole work

    [[overrides]]                         # [[tool.topocheck.overrides]] in pyproject.toml
    paths = ["legacy/*.topo"]             # globs relative to the config file's folder
    ignore = ["no-spof"]                  # added to the ignore list for those files
    k = 1

An override's ``select``, ``k`` and ``timeout`` replace the top level's for the
files it matches; its ``ignore`` adds to it; later overrides win. Command-line
``--select`` replaces the configured selection, ``--ignore`` adds to it, and
``--timeout`` wins. Any unknown key, wrong type or unknown check id is a
:class:`ConfigError` (exit status 2).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .limits import MAX_CONFIG_BYTES, MAX_TIMEOUT, parse_seconds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FILE_NAMES = ("topocheck.toml", "pyproject.toml")
_KEYS = {"select", "ignore", "k", "timeout", "overrides"}
_OVERRIDE_KEYS = {"paths", "select", "ignore", "k", "timeout"}


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Settings:
    """What applies to one file."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    k: int | None = None
    timeout: float | None = None
    source: Path | None = None  # the configuration file, if any


@dataclass(frozen=True)
class Override:
    paths: tuple[str, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class Config:
    path: Path
    values: dict[str, Any]
    overrides: tuple[Override, ...] = field(default_factory=tuple)

    def settings_for(self, file: Path) -> Settings:
        select = self.values.get("select")
        ignore = list(self.values.get("ignore", ()))
        k = self.values.get("k")
        timeout = self.values.get("timeout")
        relative = _relative(file, self.path.parent)
        for override in self.overrides:
            if relative is None or not any(fnmatch.fnmatch(relative, pattern) for pattern in override.paths):
                continue
            select = override.values.get("select", select)
            ignore.extend(i for i in override.values.get("ignore", ()) if i not in ignore)
            k = override.values.get("k", k)
            timeout = override.values.get("timeout", timeout)
        return Settings(tuple(select) if select is not None else None, tuple(ignore), k, timeout, self.path)


def _relative(file: Path, base: Path) -> str | None:
    try:
        return _absolute(file).relative_to(_absolute(base)).as_posix()
    except ValueError:
        return None


def _absolute(path: Path) -> Path:
    """``path`` made absolute without following links (``..`` is folded as written)."""
    return Path(os.path.abspath(path))


def search_folders(start: Path) -> Iterator[Path]:
    """The folders searched for the configuration of ``start`` (a file or a folder):
    its folder, then each parent up to the repository root (a folder holding
    ``.git``) or the filesystem root."""
    folder = _absolute(start)
    if not folder.is_dir():
        folder = folder.parent
    while True:
        yield folder
        if os.path.lexists(folder / ".git") or folder.parent == folder:
            return
        folder = folder.parent


def find_config(start: Path) -> Path | None:
    """The configuration file that applies to ``start`` (a file or folder), if any."""
    for candidate in search_folders(start):
        own = candidate / "topocheck.toml"
        if own.is_file():
            return own
        project = candidate / "pyproject.toml"
        if project.is_file() and _has_tool_table(project):
            return project
    return None


def _has_tool_table(path: Path) -> bool:
    data = _read_toml(path)
    return isinstance(data.get("tool"), dict) and "topocheck" in data["tool"]


def _read_toml(path: Path) -> dict[str, Any]:
    from .files import TooLarge, read_regular

    try:
        data = read_regular(path, MAX_CONFIG_BYTES)
    except TooLarge:
        raise ConfigError(f"'{path}' is larger than {MAX_CONFIG_BYTES:,} bytes, the limit for a configuration file")
    except OSError as exc:
        raise ConfigError(f"cannot read '{path}': {exc.strerror}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"'{path}' is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"'{path}' is not valid TOML: {exc}") from None


def load_config(path: Path, known_ids: Iterable[str]) -> Config:
    """Read and validate one configuration file."""
    data = _read_toml(path)
    where = f"'{path}'"
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("topocheck", {})
        where = f"'{path}' [tool.topocheck]"
        prefix = "tool.topocheck."
    else:
        table = data
        prefix = ""
        if isinstance(data.get("tool"), dict) and "topocheck" in data["tool"]:
            raise ConfigError(f"{where}: '[tool.topocheck]' is the pyproject.toml form; in topocheck.toml the "
                              "keys go at the top level: delete the '[tool.topocheck]' line (and write "
                              "'[[overrides]]' for '[[tool.topocheck.overrides]]')")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    known = set(known_ids)
    values = _validate(table, _KEYS, where, prefix, known)
    overrides = []
    raw_overrides = table.get("overrides", [])
    if not isinstance(raw_overrides, list) or not all(isinstance(o, dict) for o in raw_overrides):
        raise ConfigError(f"{where}: '{prefix}overrides' must be an array of tables ([[{prefix}overrides]])")
    for index, raw in enumerate(raw_overrides):
        key_prefix = f"{prefix}overrides[{index}]."
        paths = raw.get("paths")
        if not _str_list(paths) or not paths:
            raise ConfigError(f"{where}: '{key_prefix}paths' must be a non-empty list of glob strings")
        overrides.append(Override(tuple(paths), _validate(raw, _OVERRIDE_KEYS, where, key_prefix, known)))
    return Config(path, values, tuple(overrides))


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _validate(table: dict, allowed: set[str], where: str, prefix: str, known: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"'{prefix}{key}'"
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{where}: unknown key {name}{hint} (known: {', '.join(sorted(allowed))})")
        if key in ("select", "ignore"):
            if not _str_list(value):
                raise ConfigError(f"{where}: {name} must be a list of check ids, e.g. [\"no-spof\"]")
            unknown = [v for v in value if v not in known]
            if unknown:
                raise ConfigError(f"{where}: {name} names unknown check '{unknown[0]}' "
                                  f"(known: {', '.join(sorted(known))})")
            out[key] = list(value)
        elif key == "k":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}: {name} must be a whole number of at least 1, not {value!r}")
            out[key] = value
        elif key == "timeout":
            try:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(value)
                out[key] = parse_seconds(value)
            except ValueError:
                raise ConfigError(f"{where}: {name} must be a number of seconds greater than 0 and at most "
                                  f"{MAX_TIMEOUT:,}, not {value!r}") from None
    return out


class ConfigCache:
    """Finds and loads configurations once per folder."""

    def __init__(self, known_ids: Iterable[str], explicit: Path | None = None):
        self.known = tuple(known_ids)
        self.explicit = load_config(explicit, self.known) if explicit is not None else None
        self._by_folder: dict[Path, Config | None] = {}
        self._by_file: dict[Path, Config] = {}

    def settings_for(self, file: Path) -> Settings:
        if self.explicit is not None:
            return self.explicit.settings_for(file)
        folder = _absolute(file).parent
        if folder not in self._by_folder:
            found = find_config(folder)
            if found is None:
                self._by_folder[folder] = None
            else:
                if found not in self._by_file:
                    self._by_file[found] = load_config(found, self.known)
                self._by_folder[folder] = self._by_file[found]
        config = self._by_folder[folder]
        return config.settings_for(file) if config is not None else Settings()

    def describe(self, file: Path, settings: Settings) -> str:
        """Where the configuration of ``file`` came from, in words (for ``--verbose``)."""
        if settings.source is not None:
            return f"configuration from '{settings.source}'"
        *_, top = search_folders(_absolute(file).parent)
        return f"no configuration file (searched up to '{top}')"
