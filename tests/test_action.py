"""The GitHub Action (``action.yml``): its metadata, and its steps run here.

The steps are read from ``action.yml`` and run as the runner would: ``${{ }}``
expressions in ``env``, ``with`` and ``if`` evaluated from the inputs (their
defaults from the file), ``run`` steps in bash with ``GITHUB_OUTPUT`` and
friends, ``uses`` steps recorded instead of run. Nothing touches the network: a
temporary git repository holds a base and a head commit, a fake ``gh`` on
``PATH`` records the API calls and answers them, and a ``topocheck`` shim runs
this checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_program

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
SEED = ROOT / "models" / "seed"
ACTION_SCHEMA = ROOT.parent / "shared" / "schemas" / "github-action.json"
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
MARKER = "<!-- topocheck-diff -->"


def metadata() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def script():
    spec = importlib.util.spec_from_file_location("topocheck_action", ROOT / "action" / "topocheck_action.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["topocheck_action"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- the metadata ------------------------------------------------------------------------------------

_STEP_KEYS = {"run", "shell", "uses", "with", "name", "id", "if", "env", "working-directory"}


def test_action_yml_is_a_composite_action_whose_inputs_are_all_declared() -> None:
    action = metadata()
    assert set(action) <= {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
    assert isinstance(action["name"], str) and isinstance(action["description"], str)
    inputs = action["inputs"]
    for name, spec in inputs.items():
        assert re.fullmatch(r"[_a-zA-Z][a-zA-Z0-9_-]*", name), name
        assert set(spec) <= {"description", "required", "default", "deprecationMessage"}, name
        assert isinstance(spec["description"], str) and spec["description"].strip(), name
        assert isinstance(spec["required"], bool), name
        assert isinstance(spec.get("default", ""), str), f"{name}: a default is a string"
    for name, spec in action["outputs"].items():
        assert set(spec) == {"description", "value"}, name
    runs = action["runs"]
    assert runs["using"] == "composite" and set(runs) == {"using", "steps"}
    ids = [step["id"] for step in runs["steps"] if "id" in step]
    for step in runs["steps"]:
        assert set(step) <= _STEP_KEYS, step
        assert ("run" in step and "shell" in step) != ("uses" in step), step
        if "run" in step:  # inputs reach scripts through env, never pasted into them
            assert "${{" not in step["run"], step["run"]
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used == set(inputs), f"used but not declared: {used - set(inputs)}; declared, unused: {set(inputs) - used}"
    for step_id in re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", text):
        assert step_id in ids
    variables = set(re.findall(r"\b(TOPOCHECK_[A-Z_]+)\b", text))
    source = (ROOT / "action" / "topocheck_action.py").read_text(encoding="utf-8")
    assert variables == set(re.findall(r'"(TOPOCHECK_[A-Z_]+)"', source)), "every variable set is read, and back"


def test_action_yml_against_the_official_metadata_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not ACTION_SCHEMA.exists():
        pytest.skip("SchemaStore's github-action.json is not in ../shared/schemas (never downloaded in tests)")
    jsonschema.validate(metadata(), json.loads(ACTION_SCHEMA.read_text(encoding="utf-8")))


# -- running the steps ------------------------------------------------------------------------------


class Expression:
    """Just enough of the Actions expression language for action.yml: references, string
    literals, ==, !=, &&, || and always()."""

    TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_.\-]*(?:\(\))?))")

    def __init__(self, context: dict) -> None:
        self.context = context

    def evaluate(self, text: str):
        tokens, position = [], 0
        while position < len(text.strip()):
            match = self.TOKEN.match(text, position)
            assert match, f"cannot read {text[position:]!r}"
            op, literal, name = match.groups()
            tokens.append(("op", op) if op else ("str", literal.replace("''", "'")) if literal is not None
                          else ("name", name))
            position = match.end()
        value, rest = self._or(tokens)
        assert not rest, rest
        return value

    def _or(self, tokens):
        value, tokens = self._and(tokens)
        while tokens and tokens[0] == ("op", "||"):
            other, tokens = self._and(tokens[1:])
            value = value or other
        return value, tokens

    def _and(self, tokens):
        value, tokens = self._compare(tokens)
        while tokens and tokens[0] == ("op", "&&"):
            other, tokens = self._compare(tokens[1:])
            value = value and other
        return value, tokens

    def _compare(self, tokens):
        value, tokens = self._atom(tokens)
        if tokens and tokens[0] in (("op", "=="), ("op", "!=")):
            other, rest = self._atom(tokens[1:])
            return (str(value) == str(other)) == (tokens[0][1] == "=="), rest
        return value, tokens

    def _atom(self, tokens):
        kind, value = tokens[0]
        if kind == "str":
            return value, tokens[1:]
        if kind == "op" and value == "(":
            inner, rest = self._or(tokens[1:])
            assert rest[0] == ("op", ")")
            return inner, rest[1:]
        if value == "always()":
            return True, tokens[1:]
        found = self.context
        for part in value.split("."):
            found = found.get(part, "") if isinstance(found, dict) else ""
        return found, tokens[1:]

    def substitute(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(self.evaluate(m.group(1))), text)


def run_action(inputs: dict[str, str], env: dict[str, str], cwd: Path) -> dict:
    """Run action.yml's steps; each step's outcome, outputs and what it ran."""
    action = metadata()
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update(inputs)
    context = {"inputs": values, "github": {"token": "fake-token"}, "steps": {}}
    expression = Expression(context)
    for name, value in list(values.items()):
        values[name] = expression.substitute(value)
    record = {"steps": [], "uses": []}
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        condition = step.get("if")
        if condition is None:
            should = not failed
        else:
            inner = condition.strip()
            inner = inner[3:-2] if inner.startswith("${{") else inner
            should = bool(expression.evaluate(inner)) and (not failed or "always()" in inner)
        if not should:
            record["steps"].append({"skipped": True})
            continue
        if "uses" in step:
            record["uses"].append({"uses": step["uses"],
                                   "with": {k: expression.substitute(str(v)) for k, v in step.get("with", {}).items()}})
            record["steps"].append({"uses": step["uses"]})
            continue
        output_file = cwd.parent / f"output-{index}"
        output_file.write_text("")
        step_env = {**env, "GITHUB_OUTPUT": str(output_file), "GITHUB_ACTION_PATH": str(ROOT)}
        step_env.update({k: expression.substitute(str(v)) for k, v in step.get("env", {}).items()})
        script_file = cwd.parent / f"step-{index}.sh"
        script_file.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)], cwd=cwd,
                              env=step_env, capture_output=True, text=True, timeout=600)
        outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
        record["steps"].append({"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                                "outputs": outputs})
        failed = failed or done.returncode != 0
    return record


FAKE_GH = """\
import json, os, sys
args = sys.argv[1:]
entry = {"args": args}
if "--input" in args:
    with open(args[args.index("--input") + 1], encoding="utf-8") as handle:
        entry["input"] = json.load(handle)
entry["token"] = os.environ.get("GH_TOKEN")
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(entry) + "\\n")
if os.environ.get("FAKE_GH_FAIL"):
    sys.stderr.write("HTTP 403: Resource not accessible by integration\\n")
    sys.exit(1)
if "--method" not in args:
    sys.stdout.write(os.environ.get("FAKE_GH_COMMENTS", "[]"))
else:
    sys.stdout.write("{}")
"""

TOPOCHECK_SHIM = """\
import sys
from checker.cli import main
sys.exit(main())
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def pull_request(tmp_path: Path) -> dict:
    """A repository with a base commit (seed stage 4) and a head commit that drops a web server,
    a pull-request event, a fake gh and a topocheck shim on PATH."""
    require_program("git", "git")
    require_program("bash", "bash")
    repo = tmp_path / "work" / "repo"
    (repo / "models").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    stage4 = (SEED / "04-replication.topo").read_text(encoding="utf-8")
    (repo / "models" / "shop.topo").write_text(stage4, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "models" / "shop.topo").write_text(
        stage4.replace("web1, web2", "web1").replace("web web2 zone az-b address 10.0.2.11 listen tcp/8080\n", ""),
        encoding="utf-8")
    _git(repo, "commit", "-qam", "drop web2")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("gh", FAKE_GH), ("topocheck", TOPOCHECK_SHIM)):
        (bin_dir / name).write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"sha": base}}}), encoding="utf-8")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        "FAKE_GH_LOG": str(tmp_path / "gh.log"),
        "NO_COLOR": "1",
    }
    return {"repo": repo, "env": env, "tmp": tmp_path, "base": base}


def gh_calls(pr: dict) -> list[dict]:
    log = Path(pr["env"]["FAKE_GH_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_pull_request_run_updates_its_comment_and_uploads_sarif(pull_request) -> None:
    pr = pull_request
    env = {**pr["env"], "FAKE_GH_COMMENTS": json.dumps([{"id": 5, "body": "looks good"}])
           + json.dumps([{"id": 99, "body": f"{MARKER}\nan older report"}])}  # two pages
    record = run_action({"paths": "models", "install": "false", "sarif": "true", "comment": "true", "gate": "diff"},
                        env, pr["repo"])
    step = record["steps"][0]
    assert step["code"] == 1, step["stdout"] + step["stderr"]  # the pull request made something worse
    assert step["outputs"] == {"check-exit-code": "1", "sarif-file": "topocheck.sarif", "diff-exit-code": "1",
                               "worse": "true", "exit-code": "1"}
    assert "topocheck: updated the pull-request comment" in step["stdout"]
    calls = gh_calls(pr)
    assert [c["args"][:3] for c in calls] == [
        ["api", "--paginate", "repos/acme/shop/issues/7/comments?per_page=100"],
        ["api", "--method", "PATCH"]]
    assert calls[1]["args"][3] == "repos/acme/shop/issues/comments/99" and calls[1]["token"] == "fake-token"
    body = calls[1]["input"]["body"]
    assert body.startswith(MARKER + "\n**topocheck**: ❌ **worse**: 3 worse (3 failing) in 1 of 1 file "
                                    f"({pr['base']} → the working tree)")
    assert "| ❌ worse | models/shop.topo:53 | `no-spof` | www.example.com | new single point of failure: " \
           "'web1' stops 'www.example.com' |" in body
    assert "```mermaid\nflowchart TB\n" in body
    assert Path(pr["env"]["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8") == body[len(MARKER) + 1:]
    # the upload step runs, always, on the SARIF the check wrote
    assert record["uses"] == [{"uses": "github/codeql-action/upload-sarif@v3",
                               "with": {"sarif_file": "topocheck.sarif", "category": "topocheck"}}]
    sarif = json.loads((pr["repo"] / "topocheck.sarif").read_text(encoding="utf-8"))
    if SARIF_SCHEMA.exists():
        import jsonschema

        jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    assert {r["ruleId"] for r in sarif["runs"][0]["results"] if r["kind"] == "fail"} == {"no-spof", "zone-redundancy"}


def test_the_first_run_posts_a_comment_and_a_baseline_gates_on_new_findings(pull_request) -> None:
    pr = pull_request
    repo = pr["repo"]
    _git(repo, "checkout", "-q", pr["base"], "--", "models/shop.topo")  # the base's findings: none
    baseline = subprocess.run([sys.executable, "-m", "checker", "check", "models", "--write-baseline",
                               str(pr["tmp"] / "baseline.json")], cwd=repo, capture_output=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert baseline.returncode == 0, baseline.stdout
    _git(repo, "checkout", "-q", "HEAD", "--", "models/shop.topo")
    record = run_action({"paths": "models", "install": "false", "comment": "true",
                         "baseline": str(pr["tmp"] / "baseline.json")}, pr["env"], repo)
    step = record["steps"][0]
    assert step["code"] == 1  # gate 'check': the new findings fail
    assert "::error file=models/shop.topo,line=53" in step["stdout"] and "(refuted%2C new)" in step["stdout"]
    calls = gh_calls(pr)
    assert [c["args"][:4] for c in calls] == [
        ["api", "--paginate", "repos/acme/shop/issues/7/comments?per_page=100", ],
        ["api", "--method", "POST", "repos/acme/shop/issues/7/comments"]]
    assert calls[1]["input"]["body"].startswith(MARKER + "\n**topocheck**: ❌ **worse**")
    assert record["uses"] == []  # no SARIF asked for
    assert record["steps"][1] == {"skipped": True}


def test_a_comment_that_cannot_be_posted_is_a_warning(pull_request) -> None:
    pr = pull_request
    record = run_action({"paths": "models", "install": "false", "comment": "true", "gate": "none"},
                        {**pr["env"], "FAKE_GH_FAIL": "1"}, pr["repo"])
    step = record["steps"][0]
    assert step["code"] == 0
    assert ("::warning::topocheck: could not post the pull-request comment: gh api --paginate failed: "
            "HTTP 403: Resource not accessible by integration") in step["stdout"]


def test_outside_a_pull_request_there_is_no_diff(pull_request) -> None:
    pr = pull_request
    env = {k: v for k, v in pr["env"].items() if k != "GITHUB_EVENT_PATH"}
    record = run_action({"paths": "models", "install": "false", "comment": "true"}, env, pr["repo"])
    step = record["steps"][0]
    assert step["code"] == 1  # gate 'check': the head has single points of failure
    assert "::warning::topocheck: no base revision (not a pull request, and no 'base' input): no diff" in step["stdout"]
    assert gh_calls(pr) == []
    assert step["outputs"] == {"check-exit-code": "1", "sarif-file": "", "exit-code": "1"}


def test_a_base_input_compares_with_that_revision(pull_request) -> None:
    pr = pull_request
    env = {k: v for k, v in pr["env"].items() if k != "GITHUB_EVENT_PATH"}
    record = run_action({"paths": "models", "install": "false", "base": "HEAD", "gate": "diff"}, env, pr["repo"])
    step = record["steps"][0]
    assert step["code"] == 0 and step["outputs"]["worse"] == "false"
    assert "**no change**" in step["stdout"]


@pytest.mark.parametrize("inputs,message", [
    ({"gate": "sometimes"}, "::error::topocheck: input 'gate' must be one of check, diff, none, not 'sometimes'"),
    ({"sarif": "yes"}, "::error::topocheck: input 'sarif' must be true or false, not 'yes'"),
    ({"base": "no-such-revision", "gate": "diff"},
     "::error::topocheck: cannot fetch the base revision 'no-such-revision' (use actions/checkout with "
     "fetch-depth: 0)"),
])
def test_bad_inputs_fail_the_step_with_a_clear_error(pull_request, inputs, message) -> None:
    pr = pull_request
    record = run_action({"paths": "models", "install": "false", **inputs}, pr["env"], pr["repo"])
    step = record["steps"][0]
    assert step["code"] == 2
    assert message in step["stdout"]


# -- the script's pieces ------------------------------------------------------------------------------


def test_install_commands() -> None:
    action = script()
    venv = Path("/runner/topocheck-venv")
    assert action.install_commands("python3", venv, "", "/actions/topocheck") == [
        ["python3", "-m", "venv", "/runner/topocheck-venv"],
        ["/runner/topocheck-venv/bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "/actions/topocheck"]]
    assert action.install_commands("python3.12", venv, "topocheck==0.1.0", "/a")[1][-1] == "topocheck==0.1.0"
    with pytest.raises(action.ActionError):
        action.install_commands("python3", venv, "", "")


def test_comment_body_is_cut_to_what_github_accepts() -> None:
    action = script()
    long = "| row |\n" * 5000 + "```mermaid\n" + "n1 --> n2\n" * 5000 + "```\n"
    body = action.comment_body(long)
    assert body.startswith(action.MARKER) and len(body) <= action.COMMENT_LIMIT
    assert body.count("```") % 2 == 0
    assert body.endswith("_The report is longer than a comment can be; the job summary has all of it._\n")
    assert action.comment_body("short\n") == f"{action.MARKER}\nshort\n"


def test_gate_status() -> None:
    gate = script().gate_status
    assert [gate("check", 1, 0), gate("diff", 1, 0), gate("diff", 0, 1), gate("none", 1, 1), gate("none", 0, 2),
            gate("diff", 1, None)] == [1, 0, 1, 0, 2, 0]
