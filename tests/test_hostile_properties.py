"""Properties of the human-readable formats over hostile file names and text
(issue 15): control characters, line separators, HTML, mentions, Markdown and
workflow-command syntax anywhere in a path, a comment, a suppression reason or
the source itself.

* GitHub output holds exactly one workflow command per annotation (one per
  finding that is not proved, plus one notice per accepted finding), and every
  other line is a summary line that no runner reads as a command;
* Markdown never contains raw HTML from the input (our own ``<details>`` and
  ``<summary>`` tags aside) and never mentions anyone;
* text output has no raw control characters, however the input was made.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_text
from checker.context import Options
from checker.display import UNSAFE
from checker.reporters import github, markdown, text
from checker.results import FileReport, Status

# Characters chosen to break each format: C0 and C1 controls, DEL, Unicode line
# and paragraph separators, bidi overrides, HTML and Markdown punctuation,
# workflow-command syntax and undecodable file-name bytes (surrogate escapes).
HOSTILE = st.sampled_from(
    ["\x00", "\x07", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b", "\x1b[2J", "\x1b]52;c;aGk=\x07", "\x7f", "\x85",
     "\x9b", "\u2028", "\u2029", "\u202e", "\u2066", "<", ">", "&", "@", "`", "|", "*", "_", "[", "]", "\\", "#",
     "::", "::warning::", ",", ":", "%", "%0A", "<script>", "@octocat", "<!--", "-->", "\udcff", "é", "a", " "]
)
FRAGMENTS = st.lists(HOSTILE, max_size=12).map("".join)
NAMES = FRAGMENTS.map(lambda s: f"dir/{s}.topo")

SOURCE = "web w address 203.0.113.1  # topocheck: ignore[no-spof] {reason}\nzone a{tail}\n"

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reports(path: str, reason: str, tail: str) -> list[FileReport]:
    """A file that parses (the reason is the comment's text: no line breaks or
    controls reach it) and one made of the raw fragments (syntax errors)."""
    safe_reason = UNSAFE.sub("", reason.replace("\n", " ").replace("\r", " ")) or "x"
    good = check_text(SOURCE.format(reason=safe_reason, tail=""), path, Options(timeout=10))
    bad = check_text(SOURCE.format(reason=reason, tail=tail), path + "2", Options(timeout=10))
    return [good, bad]


def annotations_expected(report_list: list[FileReport]) -> int:
    count = 0
    for report in report_list:
        for result in report.results:
            if result.status is Status.PROVED:
                continue
            suppressed = result.extra.get("suppressed", ())
            count += (1 if result.counterexamples or not suppressed else 0) + len(suppressed)
    return count


@settings(**_SETTINGS)
@given(path=NAMES, reason=FRAGMENTS, tail=FRAGMENTS)
def test_github_output_has_one_workflow_command_per_finding(path: str, reason: str, tail: str) -> None:
    found = reports(path, reason, tail)
    lines = github.render(found).splitlines()  # every line break a runner might honour, and more
    commands = [line for line in lines if line.lstrip().startswith(("::", "##["))]
    assert len(commands) == annotations_expected(found)
    assert all(line.startswith("::") or line.startswith("topocheck: ") for line in lines), lines
    for command in commands:  # the property values cannot end the command early
        properties = command.split("::", 2)[1]
        assert re.fullmatch(r"(error|warning|notice) [^:]*", properties), command


def _one_code_span(text_: str) -> bool:
    """``text_`` is a single Markdown code span: a run of backticks, content with no
    run of that length, the same run again."""
    fence = re.match(r"`+", text_)
    if fence is None or not text_.endswith(fence.group()) or len(text_) < 2 * len(fence.group()) + 1:
        return False
    inner = text_[len(fence.group()):-len(fence.group())]
    return all(len(run) != len(fence.group()) for run in re.findall(r"`+", inner))


_OUR_TAGS = re.compile(r"<details( open)?>|</details>|<summary>|</summary>")


@settings(**_SETTINGS)
@given(path=NAMES, reason=FRAGMENTS, tail=FRAGMENTS)
def test_markdown_never_contains_raw_html_or_mentions_from_the_input(path: str, reason: str, tail: str) -> None:
    out = markdown.render(reports(path, reason, tail))
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert len(headings) == 2 and all(_one_code_span(line[3:]) for line in headings), headings
    # Outside the Mermaid block and the headings' code spans (where '<' is literal text):
    prose = re.sub(r"```mermaid\n.*?\n```", "", out, flags=re.S)
    prose = "\n".join(line for line in prose.splitlines() if not line.startswith("## "))
    assert "<" not in _OUR_TAGS.sub("", prose), out
    assert not re.search(r"@[A-Za-z0-9]", prose), out  # GitHub mentions no one in a code span
    assert not UNSAFE.search(out.replace("\n", "")), out


@settings(**_SETTINGS)
@given(path=NAMES, reason=FRAGMENTS, tail=FRAGMENTS)
def test_text_output_has_no_raw_control_characters(path: str, reason: str, tail: str) -> None:
    out = text.render(reports(path, reason, tail))
    assert not UNSAFE.search(out.replace("\n", "")), out
    assert all(line for line in out.split("\n")[:-1]) and out.endswith("\n")
