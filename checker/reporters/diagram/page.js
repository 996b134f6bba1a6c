// topocheck's diagram page: choosing a counterexample redraws the highlight.
// Self-contained (no network, no library). The marks of every counterexample are
// in the JSON block #topocheck-marks: {"N": {"elements": {id: mark}, "extras": [id],
// "marks": [mark], "summary": text}}; "0" is the topology alone.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("topocheck-marks").textContent);
  var select = document.getElementById("counterexample");
  var diagram = document.getElementById("diagram");

  function clear() {
    diagram.querySelectorAll('[class*="hl-"]').forEach(function (el) {
      Array.prototype.slice.call(el.classList).forEach(function (name) {
        if (name.indexOf("hl-") === 0) { el.classList.remove(name); }
      });
    });
    document.querySelectorAll("#diagram .on, #legend li.on, .counterexample.chosen").forEach(function (el) {
      el.classList.remove("on");
      el.classList.remove("chosen");
    });
  }

  function choose(number) {
    var entry = data[String(number)];
    if (!entry) { number = 0; entry = data["0"]; }
    clear();
    Object.keys(entry.elements).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.classList.add("hl-" + entry.elements[id]); }
    });
    entry.extras.forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.classList.add("on"); }
    });
    entry.marks.forEach(function (mark) {
      var li = document.querySelector('#legend li.mark[data-key="' + mark + '"]');
      if (li) { li.classList.add("on"); }
    });
    var chosen = document.querySelector('.counterexample[data-number="' + number + '"]');
    if (chosen) { chosen.classList.add("chosen"); }
    document.getElementById("chosen").textContent = entry.summary;
    select.value = String(number);
    diagram.setAttribute("data-chosen", String(number));
  }

  function fromHash() {
    var match = /(?:^#|&)cx=(\d+)/.exec(window.location.hash);
    return match ? parseInt(match[1], 10) : null;
  }

  select.addEventListener("change", function () {
    choose(parseInt(select.value, 10));
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#cx=" + select.value);
    }
  });
  document.querySelectorAll("button.show").forEach(function (button) {
    button.addEventListener("click", function () {
      choose(parseInt(button.getAttribute("data-number"), 10));
      diagram.scrollIntoView({behavior: "smooth", block: "start"});
    });
  });
  window.addEventListener("hashchange", function () {
    var wanted = fromHash();
    if (wanted !== null) { choose(wanted); }
  });
  var initial = fromHash();
  choose(initial !== null ? initial : parseInt(diagram.getAttribute("data-chosen"), 10));
})();
