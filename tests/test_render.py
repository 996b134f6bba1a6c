"""``topocheck render``: the built-in SVG and the self-contained HTML page (no system
program), Graphviz DOT and Mermaid, each with one chosen counterexample drawn; the
page is opened in real headless Chromium."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from checker.api import check_text, load_text
from checker.cli import main
from checker.model import Span
from checker.reporters import diagram
from checker.results import Counterexample, Hop, Result, Severity, Status
from tests.conftest import EVERYTHING

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "models" / "seed"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)
# Under .ci/run (TOPOCHECK_TEST_EVERYTHING=1) these run whatever is installed: a missing program fails them.
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not EVERYTHING,
                                    reason="needs a headless browser: install the package 'chromium'")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not EVERYTHING,
                               reason="needs Graphviz's dot: install the package 'graphviz'")

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


# -- DOT and Mermaid ---------------------------------------------------------------------


def test_dot_draws_one_counterexample_at_a_time() -> None:
    topology = load_text(ZONED, "z.topo").topology
    dot = diagram.to_dot(topology, refuted())  # the first: losing zone az-b
    assert 'subgraph "cluster_region:seoul"' in dot and 'subgraph "cluster_zone:az-a"' in dot
    assert re.search(r'id="box-zone-az-b"; style="rounded,filled"; color="#c62828".*class="box hl-failed"', dot)
    assert re.search(r'"db1" \[[^\]]*shape=cylinder[^\]]*class="kind-db hl-failed"', dot)
    assert re.search(r'"www" \[[^\]]*class="kind-dns hl-stopped"', dot)
    assert re.search(r'"web1" \[[^\]]*shape=box[^\]]*class="kind-web hl-down"\]', dot)
    assert re.search(r'"web1" -> "db1" \[label="writes", id="edge-e\d+", color="#c62828"', dot)
    assert re.search(r'"users" -> "www" \[label="resolves", id="edge-e0", color="#78909c", class="entry"\]', dot)
    assert "counterexample 1 of 2: zone-redundancy (line 3): failed zone:az-b -> stops www" in dot
    assert "causal path: what the stopped service needs" in dot  # the legend names the marks in use
    exposed = diagram.to_dot(topology, refuted(), counterexample=2)
    assert re.search(r'"web1" \[[^\]]*class="kind-web hl-exposed"\]', exposed)
    assert re.search(r'"lb1" -> "web1" \[label="tcp/443 -> tcp/8080", id="edge-e\d+", color="#e65100"', exposed)
    assert re.search(r'"users" -> "lb1" \[label="tcp/443", id="edge-e\d+", color="#e65100".*class="packet '
                     r'hl-packet"', exposed)
    assert "hl-failed" not in exposed and "zone-az-b\"; style=\"rounded,filled" not in exposed
    plain = diagram.to_dot(topology, refuted(), highlight=False)
    assert "hl-" not in plain and "legend" not in plain and "#e65100" not in plain


def test_a_write_hop_the_model_lacks_is_added_for_its_counterexample() -> None:
    topology = load_text(ZONED, "z.topo").topology
    result = Result("write-to-primary", Status.REFUTED, Severity.ERROR, "bad write", None, "graph",
                    (Counterexample({"failed": ["web1"], "writer": "lb1", "target": "db1", "path": ["lb1", "db1"],
                                     "primary": None}),))
    dot = diagram.to_dot(topology, [result])
    assert re.search(r'"lb1" -> "db1" \[label="write", id="edge-e\d+", color="#1565c0"', dot)
    assert re.search(r'"db1" \[[^\]]*class="kind-db hl-landing"', dot)
    assert re.search(r'"web1" \[[^\]]*class="kind-web hl-failed"', dot)


def test_mermaid_marks_by_class_and_link_style() -> None:
    from tests.test_golden import mermaid_problems

    topology = load_text(ZONED, "z.topo").topology
    text = diagram.to_mermaid(topology, refuted())
    assert mermaid_problems(text) == []
    ids = dict(re.findall(r'^\s*(n\d+)\S*?"(\w[\w.-]*)<br/>', text, re.M))
    by_name = {name: ident for ident, name in ids.items()}
    assert f"  class {by_name['db1']} failed\n" in text
    assert f"  class {by_name['www']} stopped\n" in text
    assert re.search(r"^  class b\d+ failedBox$", text, re.M)
    assert re.search(r"^  linkStyle [\d,]+ stroke:#c62828,stroke-width:3px$", text, re.M)
    second = diagram.to_mermaid(topology, refuted(), counterexample=2)
    assert mermaid_problems(second) == []
    assert f"  class {by_name['web1']} exposed\n" in second and "failedBox" not in second


# -- the command line ------------------------------------------------------------------------


def test_render_writes_each_format_and_infers_it_from_the_extension(tmp_path: Path) -> None:
    model = SEED / "04-replication.topo"
    for name, marker in (("x.dot", "digraph topology {"), ("x.gv", "digraph topology {"),
                         ("x.mmd", "flowchart TB"), ("x.mermaid", "flowchart TB"),
                         ("x.svg", '<svg xmlns="http://www.w3.org/2000/svg"'), ("x.html", "<!DOCTYPE html>"),
                         ("x.htm", "<!DOCTYPE html>")):
        out = tmp_path / name
        assert run(["render", str(model), "--output", str(out)]) == (0, "", "")
        assert out.read_text(encoding="utf-8").startswith(marker), name
    code, out, err = run(["render", str(model)])  # no output, no format: SVG on standard output
    assert (code, err) == (0, "") and out.startswith("<svg")
    code, out, err = run(["render", str(model), "--format", "mermaid", "-o", str(tmp_path / "diagram")])
    assert (code, out, err) == (0, "", "") and (tmp_path / "diagram").read_text().startswith("flowchart TB")


def test_render_refuses_an_extension_that_no_format_writes_or_that_contradicts_the_format(tmp_path: Path) -> None:
    model = str(SEED / "03-load-balancer.topo")
    code, out, err = run(["render", model, "--output", str(tmp_path / "x.png")])
    assert (code, out) == (2, "") and not (tmp_path / "x.png").exists()
    assert err == (f"topocheck: error: cannot write a diagram to '{tmp_path / 'x.png'}': topocheck render writes "
                   "svg, html, dot or mermaid, and '.png' is none of them (use one of .dot, .gv, .htm, .html, "
                   ".mermaid, .mmd, .svg; for a picture, open the .svg or convert it, e.g. "
                   "'rsvg-convert -o x.png x.svg')\n")
    code, out, err = run(["render", model, "--format", "svg", "--output", str(tmp_path / "x.html")])
    assert (code, out) == (2, "") and not (tmp_path / "x.html").exists()
    assert err == (f"topocheck: error: '--format svg' contradicts the output '{tmp_path / 'x.html'}', which names "
                   "an HTML file (write an SVG diagram to a .svg file, or leave out --format)\n")
    code, _, err = run(["render", model, "--format", "mermaid", "--engine", "dot"])
    assert code == 2 and err == ("topocheck: error: '--engine' chooses how svg and html are laid out; "
                                 "'--format mermaid' has no engine\n")


def test_list_counterexamples_and_choose_one(tmp_path: Path) -> None:
    model = str(SEED / "03-load-balancer.topo")
    assert run(["render", model, "--list-counterexamples"]) == (0, (
        "  1  no-spof (line 51): failed db1 -> stops www.example.com\n"
        "  2  zone-redundancy (line 31): failed zone:az-a -> stops www.example.com\n"), "")
    assert run(["render", str(SEED / "04-replication.topo"), "--list-counterexamples"]) == (
        0, "no counterexamples: no check was refuted\n", "")
    code, first, _ = run(["render", model])
    assert code == 0 and 'id="box-zone-az-a" class="box zone"><rect class="frame" x=' in first
    assert re.search(r'<g id="node-db1" class="node kind-db"><path class="shape" [^>]*fill="#ffcdd2" '
                     r'stroke="#c62828"', first)
    assert re.search(r'<g id="node-web1" class="node kind-web"><rect class="shape" [^>]*fill="#eeeeee"', first)
    code, second, _ = run(["render", model, "--counterexample", "2"])
    assert code == 0 and re.search(r'<g id="box-zone-az-a" class="box zone"><rect [^>]*fill="#fff0f0" '
                                   r'stroke="#c62828"', second)
    assert re.search(r'<g id="node-web1" class="node kind-web"><rect class="shape" [^>]*fill="#ffcdd2"', second)
    assert "counterexample 2 of 2: zone-redundancy (line 31)" in second
    assert run(["render", model, "-c", "3"]) == (
        2, "", "topocheck: error: there is no counterexample 3: the file has 2 (1-2); '--list-counterexamples' "
               "lists them\n")
    assert run(["render", model, "-c", "0"])[0] == 2
    assert run(["render", str(SEED / "04-replication.topo"), "-c", "2"]) == (
        2, "", "topocheck: error: there is no counterexample 2: no check was refuted\n")
    code, plain, _ = run(["render", model, "--no-highlight"])
    assert code == 0 and "hl-" not in plain and "#ffcdd2" not in plain and 'id="legend"' in plain
    code, page, _ = run(["render", model, "--no-highlight", "--format", "html"])
    assert code == 0 and "<p>No check ran (the topology alone was drawn).</p>" in page
    assert '<option value="0">none: the topology alone</option></select>' in page


def test_svg_and_html_need_no_system_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot, no browser
    model = str(SEED / "01-single-server.topo")
    for fmt in ("svg", "html"):
        code, out, err = run(["render", model, "--format", fmt])
        assert (code, err) == (0, "") and "<svg" in out
    code, out, err = run(["render", model, "--engine", "dot"])
    assert (code, out) == (2, "")
    assert err.startswith("topocheck: error: '--engine dot' needs Graphviz's 'dot' program, which was not found on "
                          "PATH (install it") and "leave out '--engine dot' to use the built-in renderer" in err


@needs_dot
def test_engine_dot_lays_out_with_graphviz() -> None:
    import html

    code, out, err = run(["render", str(SEED / "03-load-balancer.topo"), "--engine", "dot", "-c", "2"])
    assert (code, err) == (0, "") and out.startswith("<svg")
    out = html.unescape(out)
    assert '<g id="box-zone-az-a" class="cluster box hl-failed">' in out
    assert '<g id="node-web1" class="node kind-web hl-failed">' in out
    code, page, err = run(["render", str(SEED / "03-load-balancer.topo"), "--engine", "dot", "--format", "html"])
    assert (code, err) == (0, "") and '<g id="node-db1" class="node kind-db">' in html.unescape(page)
    assert '"node-db1":"failed"' in page  # the page's marks name Graphviz's element ids


def test_render_errors_exit_cleanly(tmp_path: Path) -> None:
    assert run(["render", str(tmp_path / "none.topo")])[0] == 2
    broken = tmp_path / "broken.topo"
    broken.write_text("web web1 zone nowhere\n", encoding="utf-8")
    code, out, err = run(["render", str(broken), "--format", "dot"])
    assert code == 1 and out == "" and "undefined-name" in err


def test_html_page_holds_every_counterexample_and_the_verdicts() -> None:
    path = SEED / "02-separate-database.topo"
    text = path.read_text(encoding="utf-8")
    topology = load_text(text, "s2.topo").topology
    results = list(check_text(text, "s2.topo").results)
    page = diagram.to_html(topology, results, "s2.topo")
    assert "<script src" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    options = re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', page)
    assert [o[0] for o in options] == ["0", "1", "2", "3", "4"] and options[1][1] == " selected"
    assert options[1][2] == "1. no-spof (line 36): failed db1 -&gt; stops www.example.com"
    marks = json.loads(re.search(r'<script type="application/json" id="topocheck-marks">(.*?)</script>', page,
                                 re.S).group(1))
    assert marks["1"]["elements"]["node-db1"] == "failed" and "node-web1" not in [
        k for k, v in marks["1"]["elements"].items() if v == "failed"]
    assert marks["3"]["elements"]["node-web1"] == "failed" and marks["3"]["elements"]["node-db1"] == "failed"
    assert len(re.findall(r'<tr class="result"', page)) == len(results)
    assert len(re.findall(r'<div class="counterexample" ', page)) == 4


# -- real headless Chromium ---------------------------------------------------------------------

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

GEOMETRY = """<script>
(function () {
  var texts = Array.prototype.slice.call(document.querySelectorAll("#diagram svg text"));
  var boxes = [];
  texts.forEach(function (t) {
    var r = t.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) { boxes.push([t.textContent, r.left, r.top, r.right, r.bottom]); }
  });
  var hl = Array.prototype.slice.call(document.querySelectorAll('#diagram [class*="hl-"]')).map(function (el) {
    return [el.id, (el.getAttribute("class").match(/hl-[a-z]+/) || [""])[0]];
  });
  var shown = Array.prototype.slice.call(document.querySelectorAll("#diagram .extra.on")).map(function (el) {
    return el.id;
  });
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({texts: boxes, marked: hl, shown: shown,
                                    chosen: document.getElementById("counterexample").value,
                                    caption: document.getElementById("chosen").textContent});
  document.body.appendChild(out);
})();
</script>
"""


def browse(page: Path, tmp_path: Path, fragment: str = "", *args: str) -> str:
    assert CHROMIUM is not None
    flags = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1600", *args]
    done = subprocess.run([*flags, page.as_uri() + fragment], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return done.stdout.decode("utf-8")


def probe(page_html: str, tmp_path: Path, fragment: str = "", select: str | None = None) -> dict:
    """Open the page (with ``fragment``; then, with ``select``, pick that option in the chooser
    as a user would) and read back the labels' boxes, the marked elements and the caption."""
    page = tmp_path / "probe.html"
    pick = ("<script>(function () { var s = document.getElementById('counterexample'); "
            f"s.value = '{select}'; s.dispatchEvent(new Event('change')); }})();</script>\n") if select else ""
    page.write_text(page_html.replace("</body>", pick + GEOMETRY + "</body>"), encoding="utf-8")
    dom = browse(page, tmp_path, fragment, "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-3000:]
    import html as html_module

    return json.loads(html_module.unescape(found.group(1)))


def overlaps(boxes: list) -> list[tuple[str, str]]:
    out = []
    for i, (ta, l1, t1, r1, b1) in enumerate(boxes):
        for tb, l2, t2, r2, b2 in boxes[i + 1:]:
            if l1 < r2 - 0.5 and l2 < r1 - 0.5 and t1 < b2 - 0.5 and t2 < b1 - 0.5:
                out.append((ta, tb))
    return out


def seed_page(name: str) -> tuple[str, object, list[Result]]:
    path = SEED / f"{name}.topo"
    text = path.read_text(encoding="utf-8")
    topology = load_text(text, f"models/seed/{name}.topo").topology
    results = list(check_text(text, f"models/seed/{name}.topo").results)
    return diagram.to_html(topology, results, f"models/seed/{name}.topo"), topology, results


@needs_chromium
def test_choosing_a_counterexample_redraws_the_highlight(tmp_path: Path) -> None:
    page, _, _ = seed_page("03-load-balancer")
    first = probe(page, tmp_path)
    assert first["chosen"] == "1"
    assert first["caption"] == "counterexample 1 of 2: no-spof (line 51): failed db1 -> stops www.example.com"
    failed = sorted(i for i, mark in first["marked"] if mark == "hl-failed")
    assert failed == ["node-db1"]  # web1 and zone az-a are not red: db1 alone is the single point
    assert sorted(i for i, m in first["marked"] if m == "hl-stopped") == ["node-www_2e_example_2e_com"]
    assert sorted(i for i, m in first["marked"] if m == "hl-down") == ["node-lb1", "node-web1", "node-web2"]
    assert len([i for i, m in first["marked"] if m == "hl-cause" and i.startswith("edge-")]) == 5
    second = probe(page, tmp_path, "#cx=2")
    assert second["chosen"] == "2"
    assert sorted(i for i, m in second["marked"] if m == "hl-failed") == ["box-zone-az-a", "node-db1", "node-web1"]
    assert sorted(i for i, m in second["marked"] if m == "hl-down") == ["node-lb1", "node-web2"]
    none = probe(page, tmp_path, "#cx=0")
    assert none["marked"] == [] and none["caption"] == "no counterexample chosen: the topology alone"
    picked = probe(page, tmp_path, "", select="2")  # the chooser, as a user picks
    assert picked["chosen"] == "2" and sorted(picked["marked"]) == sorted(second["marked"])
    assert picked["caption"].startswith("counterexample 2 of 2: zone-redundancy")


@needs_chromium
def test_an_exposure_shows_its_packet_only_when_chosen(tmp_path: Path) -> None:
    path = ROOT / "models" / "examples" / "database-behind-lb.topo"
    text = path.read_text(encoding="utf-8")
    results = list(check_text(text, "db.topo").results)
    page = diagram.to_html(load_text(text, "db.topo").topology, results, "db.topo")
    number = next(c.number for c in diagram.choices(results) if c.result.id == "private-db")
    chosen = probe(page, tmp_path, f"#cx={number}")
    assert chosen["shown"] and all(i.startswith(("edge-e", "label-e")) for i in chosen["shown"])
    assert ["node-db2", "hl-exposed"] in chosen["marked"]
    assert probe(page, tmp_path, "#cx=0")["shown"] == []


@needs_chromium
@pytest.mark.parametrize("name", [p.stem for p in sorted(SEED.glob("*.topo"))])
def test_no_two_labels_overlap_in_the_browser(name: str, tmp_path: Path) -> None:
    page, topology, results = seed_page(name)
    numbers = ["0", *[str(c.number) for c in diagram.choices(results)]]
    for number in numbers:
        seen = probe(page, tmp_path, f"#cx={number}")
        assert seen["chosen"] == number
        assert seen["texts"], "no label was measured"
        assert overlaps(seen["texts"]) == []
    # every label of the layout was measured (the shown ones; a hidden hop's label has no box)
    placed = diagram.layout(diagram.graph_of(topology, []))
    assert len(seen["texts"]) >= len(placed.texts())


@needs_chromium
def test_screenshots_of_the_seed_stages(tmp_path: Path) -> None:
    for path in sorted(SEED.glob("*.topo")):
        out = tmp_path / f"{path.stem}.html"
        assert run(["render", str(path), "--output", str(out)])[0] == 0
        shot = tmp_path / f"{path.stem}.png"
        browse(out, tmp_path, "", f"--screenshot={shot}")
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


@needs_chromium
def test_version_2_page_has_no_overlapping_labels_in_the_browser(tmp_path: Path) -> None:
    from tests.test_diagram_layout import VERSION_2

    topology = load_text(VERSION_2, "v2.topo").topology
    results = list(check_text(VERSION_2, "v2.topo").results)
    page = diagram.to_html(topology, results, "v2.topo")
    for number in ["0", *[str(c.number) for c in diagram.choices(results)]]:
        seen = probe(page, tmp_path, f"#cx={number}")
        assert seen["chosen"] == number and seen["texts"]
        assert overlaps(seen["texts"]) == []
    assert ["node-nat-b", "hl-failed"] in seen["marked"]  # the last: zone az-b


def test_a_model_too_large_to_draw_is_refused_before_its_checks_run(tmp_path, monkeypatch) -> None:
    import checker.cli
    from checker import limits

    webs = "".join(f"web w{i} address 10.0.{i // 250}.{i % 250 + 1}\n" for i in range(4))
    path = tmp_path / "big.topo"
    path.write_text(webs, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_DIAGRAM_COMPONENTS", 3)
    checked: list[int] = []
    real = checker.cli.check_text
    monkeypatch.setattr(checker.cli, "check_text", lambda *args, **kwargs: checked.append(1) or real(*args, **kwargs))
    for fmt in ("svg", "html", "dot", "mermaid"):
        code, out, err = run(["render", "--format", fmt, str(path)])
        assert (code, out) == (1, "")
        assert err == (f"topocheck: error: cannot draw '{path}': it has 4 components, more than a diagram is "
                       "drawn for (3); 'topocheck check' checks it\n")
    assert checked == []
    monkeypatch.setattr(limits, "MAX_DIAGRAM_COMPONENTS", 4)
    code, out, err = run(["render", "--format", "mermaid", str(path)])
    assert code == 0 and out.startswith("flowchart TB") and err == "" and checked == [1]
