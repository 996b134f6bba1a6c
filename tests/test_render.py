"""``topocheck render``: DOT, Mermaid, SVG and a self-contained HTML page, with the
refuted checks' failed units and offending paths highlighted; the page is opened in
real headless Chromium."""

from __future__ import annotations

import io
import re
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.api import check_text, load_text
from checker.cli import main
from checker.model import Span
from checker.reporters import diagram
from checker.results import Counterexample, Hop, Result, Severity, Status
from tests.conftest import require_program

ROOT = Path(__file__).resolve().parent.parent

ZONED = """\
topology "two zones"
zone az-a region seoul
zone az-b region seoul
internet users
dns www { managed; answer lb1 }
lb lb1 { managed; address 203.0.113.10; address 10.0.0.10; listen tcp/443 -> web1 tcp/8080 }
web web1 zone az-a address 10.0.1.11 listen tcp/8080
db db1 zone az-b address 10.0.3.10 listen tcp/5432 primary
web1 writes db1
allow internet -> lb1 tcp/443
allow lb1 -> web1 tcp/8080
allow web1 -> db1 tcp/5432
"""


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def refuted(topology_path: str = "z.topo") -> list[Result]:
    """A zone failure and an offending path, as the contract's checks report them."""
    span = Span(topology_path, 3, 1, 3, 20)
    zone_cx = Counterexample({"failed": ["zone:az-b"], "stopped": ["www"], "explanation": ["db1 is down"]},
                             related=(Hop("zone:az-b", span),))
    path_cx = Counterexample(
        {"component": "web1", "packet": {"src": "198.51.100.7", "dst": "203.0.113.10", "protocol": "tcp",
                                         "port": 443}, "path": ["internet", "lb1", "web1"], "rules": [10, 11]},
        flow=(Hop("internet", None), Hop("lb1", Span(topology_path, 10, 1, 10, 28)),
              Hop("web1", Span(topology_path, 11, 1, 11, 28))),
    )
    return [
        Result("zone-redundancy", Status.REFUTED, Severity.ERROR, "losing zone:az-b stops www", span, "graph",
               (zone_cx,)),
        Result("private-web", Status.REFUTED, Severity.ERROR, "web1 is reachable", span, "graph", (path_cx,)),
    ]


def test_dot_clusters_shapes_edges_and_highlight() -> None:
    topology = load_text(ZONED, "z.topo").topology
    dot = diagram.to_dot(topology, refuted())
    assert 'subgraph "cluster_region_seoul"' in dot and 'subgraph "cluster_zone_az-a"' in dot
    # the failed zone and the components in it are red, and so is the exposed web1; lb1 is not
    assert re.search(r'id="zone-az-b"; style="rounded,filled"; color="#c62828".*class="failed"', dot)
    assert re.search(r'"db1" \[[^\]]*shape=cylinder[^\]]*class="unit failed"', dot)
    assert re.search(r'"web1" \[[^\]]*shape=box[^\]]*class="unit failed"\]', dot)
    assert re.search(r'"lb1" \[[^\]]*shape=hexagon[^\]]*class="unit"\]', dot)
    # listener forward labelled with ports; the offending path's hops are coloured
    assert re.search(r'"lb1" -> "web1" \[label="tcp/443 -> tcp/8080", color="#d84315"', dot)
    assert re.search(r'"users" -> "www" \[label="resolves"\]', dot)
    assert '"web1" -> "db1" [label="writes"]' in dot
    assert "legend" in dot
    plain = diagram.to_dot(topology, refuted(), highlight=False)
    assert "failed" not in plain and "legend" not in plain and "#d84315" not in plain


def test_path_hop_missing_from_the_drawing_is_added_as_a_path_edge() -> None:
    topology = load_text(ZONED, "z.topo").topology
    result = Result("write-to-primary", Status.REFUTED, Severity.ERROR, "bad write", None, "graph",
                    (Counterexample({"failed": ["web1"], "writer": "lb1", "target": "db1", "path": ["lb1", "db1"],
                                     "primary": None}),))
    dot = diagram.to_dot(topology, [result])
    assert re.search(r'"lb1" -> "db1" \[label="path", color="#d84315".*style=bold', dot)
    assert re.search(r'"db1" \[[^\]]*class="unit failed"', dot)  # where the write landed


def test_mermaid_highlight_by_class_and_link_style() -> None:
    from tests.test_golden import mermaid_problems

    topology = load_text(ZONED, "z.topo").topology
    text = diagram.to_mermaid(topology, refuted())
    assert mermaid_problems(text) == []
    ids = dict(re.findall(r'^\s*(n\d+)\S*?"(\w[\w.-]*)<br/>', text, re.M))
    by_name = {name: ident for ident, name in ids.items()}
    assert f"  class {by_name['web1']},{by_name['db1']} failed\n" in text
    assert re.search(r"^  class z\d+ failedZone$", text, re.M)
    assert re.search(r"^  linkStyle [\d,]+ stroke:#d84315,stroke-width:3px$", text, re.M)


@pytest.mark.parametrize("fmt, marker", [("dot", "digraph topology {"), ("mermaid", "flowchart LR"),
                                         ("svg", "<svg"), ("html", "<!DOCTYPE html>")])
def test_render_cli_formats(tmp_path: Path, fmt: str, marker: str) -> None:
    if fmt in ("svg", "html"):
        require_program("dot", "graphviz")
    model = ROOT / "models" / "seed" / "04-replication.topo"
    out = tmp_path / f"x.{fmt}"
    code, stdout, err = run(["render", str(model), "--format", fmt, "--output", str(out)])
    assert (code, stdout, err) == (0, "", "")
    assert out.read_text(encoding="utf-8").startswith(marker)


def test_render_errors_exit_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(["render", str(tmp_path / "none.topo")])[0] == 2
    broken = tmp_path / "broken.topo"
    broken.write_text("web web1 zone nowhere\n", encoding="utf-8")
    code, out, err = run(["render", str(broken), "--format", "dot"])
    assert code == 1 and out == "" and "undefined-name" in err
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    code, out, err = run(["render", str(ROOT / "models" / "seed" / "01-single-server.topo"), "--format", "svg"])
    assert code == 2 and out == ""
    assert "needs Graphviz's 'dot' program" in err and "Traceback" not in err


def test_html_page_in_headless_chromium(tmp_path: Path) -> None:
    chromium = require_program("chromium", "chromium")
    require_program("dot", "graphviz")
    page = tmp_path / "page.html"
    topology = load_text(ZONED, "z.topo").topology
    results = list(check_text(ZONED, "z.topo").results) + refuted()
    svg = diagram.to_svg(diagram.to_dot(topology, results))
    page.write_text(diagram.to_html(topology, results, svg, "z.topo"), encoding="utf-8")
    profile = tmp_path / "profile"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1400,1000"]
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, timeout=120,
                         check=True).stdout.decode("utf-8")
    assert re.search(r'<div id="diagram">\s*<svg', dom)
    assert re.search(r'<g id="node-db1" class="node unit failed"', dom)
    assert re.search(r'<g id="node-web1" class="node unit failed"', dom)
    assert re.search(r'<g id="node-lb1" class="node unit"', dom)
    assert re.search(r'<g id="zone-az-b" class="cluster failed"', dom)
    assert len(re.findall(r'class="edge offending"', dom)) == 2  # internet -> lb1 -> web1
    assert 'id="legend"' in dom
    assert re.search(r'<tr class="result" data-check="private-web" data-status="refuted">', dom)
    assert 'class="counterexample" data-check="zone-redundancy"' in dom
