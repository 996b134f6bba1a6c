"""The logic of the topocheck GitHub Action (``action.yml`` runs this file).

Standard library only: it runs before topocheck is installed. Inputs come as
``TOPOCHECK_*`` environment variables (the action maps each input to one, so no
input is ever pasted into a shell script), the runner's context as the usual
``GITHUB_*`` ones. What it does, in order:

1. installs topocheck in a virtual environment under ``RUNNER_TEMP`` (the
   action's own copy, or the ``package`` requirement), unless ``install`` is
   false and ``topocheck`` is already on ``PATH``;
2. ``topocheck check`` on the paths: SARIF to ``sarif-file`` when ``sarif`` is
   true, else workflow annotations in the log; with ``baseline``, known findings
   do not fail;
3. when ``comment`` is true or ``gate`` is ``diff``: ``topocheck diff --base``
   against the pull request's base commit (fetched when the checkout lacks
   it), as Markdown, added to the job summary;
4. when ``comment`` is true: posts that Markdown on the pull request, or
   updates the comment it posted before (found by a hidden marker), through
   ``gh api``; a comment that cannot be posted (a fork's read-only token) is a
   warning, not a failure;
5. sets the outputs and exits with the gate's status: ``check`` (topocheck
   check's), ``diff`` (1 only when the change made something worse) or
   ``none`` (0); a usage error (status 2) fails whatever the gate.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

MARKER = "<!-- topocheck-diff -->"
#: GitHub refuses comments longer than 65536 characters.
COMMENT_LIMIT = 65000
GATES = ("check", "diff", "none")


class ActionError(Exception):
    """A mistake in the action's inputs or its environment: the step fails with this message."""


@dataclass(frozen=True)
class Inputs:
    paths: list[str]
    install: bool
    package: str
    python: str
    check_args: list[str]
    diff_args: list[str]
    baseline: str
    sarif: bool
    sarif_file: str
    comment: bool
    base: str
    gate: str


def _flag(env: Mapping[str, str], name: str, default: str) -> bool:
    value = env.get(name, default).strip().lower() or default
    if value not in ("true", "false"):
        raise ActionError(f"input '{name[10:].lower().replace('_', '-')}' must be true or false, not {value!r}")
    return value == "true"


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """The action's inputs from ``TOPOCHECK_*`` variables, checked."""
    gate = env.get("TOPOCHECK_GATE", "check").strip() or "check"
    if gate not in GATES:
        raise ActionError(f"input 'gate' must be one of {', '.join(GATES)}, not {gate!r}")
    try:
        check_args = shlex.split(env.get("TOPOCHECK_CHECK_ARGS", ""))
        diff_args = shlex.split(env.get("TOPOCHECK_DIFF_ARGS", ""))
    except ValueError as exc:
        raise ActionError(f"cannot split the extra arguments: {exc}") from None
    return Inputs(
        paths=env.get("TOPOCHECK_PATHS", ".").split() or ["."],
        install=_flag(env, "TOPOCHECK_INSTALL", "true"),
        package=env.get("TOPOCHECK_PACKAGE", "").strip(),
        python=env.get("TOPOCHECK_PYTHON", "").strip() or "python3",
        check_args=check_args,
        diff_args=diff_args,
        baseline=env.get("TOPOCHECK_BASELINE", "").strip(),
        sarif=_flag(env, "TOPOCHECK_SARIF", "false"),
        sarif_file=env.get("TOPOCHECK_SARIF_FILE", "").strip() or "topocheck.sarif",
        comment=_flag(env, "TOPOCHECK_COMMENT", "false"),
        base=env.get("TOPOCHECK_BASE", "").strip(),
        gate=gate,
    )


def install_commands(python: str, venv: Path, package: str, action_path: str) -> list[list[str]]:
    """The commands that install topocheck in ``venv``: its own copy unless ``package`` names one."""
    spec = package or action_path
    if not spec:
        raise ActionError("nothing to install: 'package' is empty and GITHUB_ACTION_PATH is not set")
    pip = str(venv / "bin" / "python")
    return [[python, "-m", "venv", str(venv)], [pip, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                                spec]]


def _run(command: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    print(f"$ {shlex.join(command)}", flush=True)
    return subprocess.run(list(command), **kwargs)


def find_topocheck(inputs: Inputs, env: Mapping[str, str]) -> str:
    """Install topocheck when asked; the path of its command."""
    if not inputs.install:
        found = _which("topocheck", env)
        if found is None:
            raise ActionError("'install' is false but no 'topocheck' command is on PATH")
        return found
    venv = Path(env.get("RUNNER_TEMP") or "/tmp") / "topocheck-venv"
    for command in install_commands(inputs.python, venv, inputs.package, env.get("GITHUB_ACTION_PATH", "")):
        if _run(command).returncode != 0:
            raise ActionError(f"installing topocheck failed: {shlex.join(command)}")
    return str(venv / "bin" / "topocheck")


def _which(name: str, env: Mapping[str, str]) -> str | None:
    import shutil

    return shutil.which(name, path=env.get("PATH"))


def pull_request(env: Mapping[str, str]) -> dict:
    """The event's pull request, or an empty dict outside one."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    value = event.get("pull_request") if isinstance(event, dict) else None
    return value if isinstance(value, dict) else {}


def ensure_commit(revision: str) -> None:
    """Fetch ``revision`` from origin unless the checkout has it (a shallow checkout does not)."""
    present = subprocess.run(["git", "cat-file", "-e", "--end-of-options", f"{revision}^{{commit}}"],
                             capture_output=True)
    if present.returncode == 0:
        return
    fetched = _run(["git", "fetch", "--no-tags", "--depth=1", "origin", "--", revision])
    if fetched.returncode != 0:
        raise ActionError(f"cannot fetch the base revision {revision!r} (use actions/checkout with fetch-depth: 0)")


def comment_body(markdown: str) -> str:
    """The comment: the hidden marker, then the report, cut to GitHub's limit."""
    body = f"{MARKER}\n{markdown}"
    if len(body) <= COMMENT_LIMIT:
        return body
    note = "\n\n_The report is longer than a comment can be; the job summary has all of it._\n"
    cut = body[: COMMENT_LIMIT - len(note)]
    if cut.count("```") % 2:  # do not leave a code block open
        cut = cut[: cut.rfind("```")]
    return cut.rstrip() + note


def _gh_json(gh: str, args: Sequence[str], env: Mapping[str, str]) -> list:
    """``gh api`` output: concatenated JSON arrays (one per page with --paginate), joined."""
    done = subprocess.run([gh, *args], capture_output=True, text=True, env=dict(env))
    if done.returncode != 0:
        raise ActionError(f"gh {' '.join(args[:2])} failed: {done.stderr.strip() or done.returncode}")
    decoder = json.JSONDecoder()
    text, index, items = done.stdout, 0, []
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return items
        value, index = decoder.raw_decode(text, index)
        items.extend(value if isinstance(value, list) else [value])


def post_comment(markdown: str, number: int, env: Mapping[str, str], workdir: Path) -> str:
    """Create or update the action's one comment on pull request ``number``; what was done."""
    gh = _which("gh", env)
    repository = env.get("GITHUB_REPOSITORY", "")
    if gh is None or not repository:
        raise ActionError("posting a comment needs the 'gh' command and GITHUB_REPOSITORY")
    comments = _gh_json(gh, ["api", "--paginate", f"repos/{repository}/issues/{number}/comments?per_page=100"], env)
    mine = [c for c in comments if isinstance(c, dict) and str(c.get("body", "")).startswith(MARKER)]
    payload = workdir / "topocheck-comment.json"
    payload.write_text(json.dumps({"body": comment_body(markdown)}), encoding="utf-8")
    if mine:
        target, method, done = f"repos/{repository}/issues/comments/{int(mine[0]['id'])}", "PATCH", "updated"
    else:
        target, method, done = f"repos/{repository}/issues/{number}/comments", "POST", "posted"
    result = subprocess.run([gh, "api", "--method", method, target, "--input", str(payload)],
                            capture_output=True, text=True, env=dict(env))
    if result.returncode != 0:
        raise ActionError(f"gh api --method {method} failed: {result.stderr.strip() or result.returncode}")
    return done


def _set_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for key, value in outputs.items():
            out.write(f"{key}={value}\n")


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)


def gate_status(gate: str, check_code: int, diff_code: int | None) -> int:
    """The step's exit status."""
    if 2 in (check_code, diff_code):
        return 2
    if gate == "check":
        return check_code
    if gate == "diff":
        return diff_code or 0
    return 0


def run(env: Mapping[str, str]) -> int:
    inputs = read_inputs(env)
    workdir = Path(env.get("RUNNER_TEMP") or "/tmp")
    topocheck = find_topocheck(inputs, env)
    paths = ["--", *inputs.paths]

    check = [topocheck, "check", *inputs.check_args]
    if inputs.baseline:
        check += ["--baseline", inputs.baseline]
    check += ["--format", "sarif", "--output", inputs.sarif_file] if inputs.sarif else ["--format", "github"]
    check_code = _run([*check, *paths]).returncode
    outputs = {"check-exit-code": str(check_code), "sarif-file": inputs.sarif_file if inputs.sarif else ""}

    diff_code: int | None = None
    wants_diff = inputs.comment or inputs.gate == "diff"
    pr = pull_request(env)
    base = inputs.base or str((pr.get("base") or {}).get("sha") or "")
    if wants_diff and not base:
        print("::warning::topocheck: no base revision (not a pull request, and no 'base' input): no diff")
    elif wants_diff:
        ensure_commit(base)
        report = workdir / "topocheck-diff.md"
        diff_code = _run([topocheck, "diff", "--base", base, *inputs.diff_args, "--format", "markdown",
                          "--output", str(report), *paths]).returncode
        markdown = report.read_text(encoding="utf-8") if report.exists() else ""
        print(markdown, end="")
        _append(env.get("GITHUB_STEP_SUMMARY"), markdown)
        outputs["diff-exit-code"] = str(diff_code)
        outputs["worse"] = "true" if diff_code == 1 else "false"
        number = pr.get("number")
        if inputs.comment and markdown and isinstance(number, int):
            try:
                print(f"topocheck: {post_comment(markdown, number, env, workdir)} the pull-request comment")
            except ActionError as exc:
                print(f"::warning::topocheck: could not post the pull-request comment: {exc}")
        elif inputs.comment:
            print("::warning::topocheck: not a pull request: no comment posted")
    status = gate_status(inputs.gate, check_code, diff_code)
    outputs["exit-code"] = str(status)
    _set_outputs(env, outputs)
    return status


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        return run(env)
    except ActionError as exc:
        print(f"::error::topocheck: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
