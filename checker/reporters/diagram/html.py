"""One self-contained page: the diagram, a chooser of counterexamples, the verdicts
and every counterexample in words. No network and no external script: the CSS
and the small script that switches the highlight are inlined.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Sequence

from ...display import visible
from ...results import Result
from .highlight import Choice, Marks
from .styles import EDGES, MARKS
from .svg import page_css

_PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px;
       color: #1f2933; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
.path { color: #52606d; font-family: monospace; }
#chooser { margin: 0.8em 0 0.4em 0; } #chooser select { font-size: 0.95em; max-width: 100%; }
#chosen { font-family: monospace; color: #3e4c59; margin: 0.2em 0 0.6em 0; }
#diagram { overflow-x: auto; }
#diagram svg { border: 1px solid #d9e2ec; border-radius: 6px; }
#legend { list-style: none; padding: 0; margin: 0.6em 0; display: flex; flex-wrap: wrap; gap: 4px 18px;
          font-size: 0.9em; }
#legend li { display: flex; align-items: center; gap: 6px; }
#legend li.mark { display: none; } #legend li.mark.on { display: flex; }
table { border-collapse: collapse; margin-top: 0.5em; }
th, td { border: 1px solid #d9e2ec; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; }
.proved { color: #1b5e20; font-weight: 600; } .refuted { color: #b71c1c; font-weight: 600; }
.unknown { color: #e65100; font-weight: 600; }
.counterexample { margin: 0.4em 0 0.8em 0; padding: 6px 12px; border-left: 4px solid #c62828;
                  background: #fff5f5; }
.counterexample.chosen { outline: 2px solid #1565c0; }
.counterexample ul { margin: 0.2em 0; } code { background: #f0f4f8; padding: 0 3px; }
button.show { font-size: 0.85em; margin-left: 8px; }
"""


def _script() -> str:
    return resources.files(__package__).joinpath("page.js").read_text(encoding="utf-8")


def element_marks(marks: Marks) -> dict[str, str]:
    """Marks by SVG element id (nodes, boxes, edges and their labels)."""
    from .svg import box_id, node_id

    out: dict[str, str] = {}
    for name, mark in marks.nodes.items():
        out[node_id(name)] = mark
    for box, mark in marks.boxes.items():
        out[box_id(box)] = mark
    for edge, mark in marks.edges.items():
        out[f"edge-{edge}"] = mark
        out[f"label-{edge}"] = mark
    return out


def page(title: str, path: str, svg: str, results: Sequence[Result], picks: Sequence[tuple[Choice, Marks, list[str]]],
         chosen: int, edge_kinds: Sequence[str]) -> str:
    """The page; ``picks`` holds each counterexample with its marks and the extra edges it shows."""
    from ..text import describe_fields

    def esc(text: str) -> str:
        return escape(visible(text))

    data: dict[str, dict] = {"0": {"elements": {}, "extras": [], "marks": [],
                                   "summary": "no counterexample chosen: the topology alone"}}
    options = ['<option value="0">none: the topology alone</option>']
    for choice, marks, extras in picks:
        data[str(choice.number)] = {
            "elements": element_marks(marks),
            "extras": [f"{kind}-{e}" for e in extras for kind in ("edge", "label")],
            "marks": list(marks.used),
            "summary": f"counterexample {choice.number} of {len(picks)}: {choice.summary}",
        }
        selected = " selected" if choice.number == chosen else ""
        options.append(f'<option value="{choice.number}"{selected}>{choice.number}. {esc(choice.summary)}</option>')
    rows = []
    for r in results:
        line = f"{r.span.line}:{r.span.column}" if r.span else ""
        rows.append(
            f'<tr class="result" data-check="{esc(r.id)}" data-status="{r.status.value}">'
            f"<td><code>{esc(r.id)}</code></td><td class=\"{r.status.value}\">{r.status.value}</td>"
            f"<td>{r.severity.value}</td><td>{esc(line)}</td><td>{esc(r.message)}</td></tr>"
        )
    details = []
    for choice, _, _ in picks:
        cx, r = choice.counterexample, choice.result
        items = "".join(f"<li>{esc(text)}</li>" for text in describe_fields(cx.to_json()))
        head = (f"accepted at line {_accepted_line(r, cx)}: {esc(choice.accepted)}" if choice.accepted is not None
                else esc(r.message))
        details.append(
            f'<div class="counterexample{" suppressed" if choice.accepted is not None else ""}" '
            f'data-check="{esc(r.id)}" data-number="{choice.number}"><strong>{choice.number}. {esc(r.id)}</strong> '
            f'{head}<button class="show" data-number="{choice.number}">show in the diagram</button>'
            f"<ul>{items}</ul></div>"
        )
    if details:
        body = "\n".join(details)
    elif results:
        body = "<p>No counterexamples: every check that ran was proved.</p>"
    else:
        body = "<p>No check ran (the topology alone was drawn).</p>"
    legend = []
    for kind in edge_kinds:
        look = EDGES[kind]
        dash = f' stroke-dasharray="{look.dash}"' if look.dash else ""
        legend.append(f'<li data-key="{kind}">{_sample_line(look.colour, 1.6, dash)}{esc(look.legend)}</li>')
    used = {m for _, marks, _ in picks for m in marks.used}
    for m in MARKS:
        if m.name not in used:
            continue
        dash = f' stroke-dasharray="{m.dash}"' if m.dash else ""
        if m.applies == "edge":
            sample = _sample_line(m.stroke, m.width, dash)
        else:
            sample = (f'<svg width="30" height="14" aria-hidden="true"><rect x="2" y="2" width="26" height="10" '
                      f'rx="3" fill="{m.fill or "#ffffff"}" stroke="{m.stroke}" stroke-width="{m.width:g}"{dash}/>'
                      "</svg>")
        legend.append(f'<li class="mark" data-key="{m.name}">{sample}{esc(m.legend)}</li>')
    marks_json = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    initial = data[str(chosen)]["summary"] if str(chosen) in data else data["0"]["summary"]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(title)} - topocheck</title>\n<style>{_PAGE_CSS}{page_css()}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<div class=\"path\">{esc(path)}</div>\n"
        "<h2>Diagram</h2>\n"
        f'<div id="chooser"><label for="counterexample">Counterexample: </label>'
        f'<select id="counterexample">{"".join(options)}</select></div>\n'
        f'<div id="chosen">{esc(initial)}</div>\n'
        f'<div id="diagram" data-chosen="{chosen}">\n{svg}</div>\n'
        f'<ul id="legend">{"".join(legend)}</ul>\n'
        "<h2>Verdicts</h2>\n<table id=\"verdicts\">\n<tr><th>check</th><th>verdict</th><th>severity</th>"
        "<th>line</th><th>message</th></tr>\n" + "\n".join(rows) + "\n</table>\n"
        f"<h2>Counterexamples</h2>\n<div id=\"counterexamples\">\n{body}\n</div>\n"
        f'<script type="application/json" id="topocheck-marks">{marks_json}</script>\n'
        f"<script>\n{_script()}</script>\n</body>\n</html>\n"
    )


def _sample_line(colour: str, width: float, dash: str) -> str:
    return (f'<svg width="30" height="14" aria-hidden="true"><line x1="1" y1="7" x2="29" y2="7" stroke="{colour}" '
            f'stroke-width="{width:g}"{dash}/></svg>')


def _accepted_line(result: Result, cx) -> str:
    for entry in result.extra.get("suppressed", ()):
        if getattr(entry, "source", None) is cx or entry.get("counterexample") == cx.fields:
            return str(entry.get("line"))
    return "?"

