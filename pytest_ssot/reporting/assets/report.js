/* pytest-ssot HTML report: search filter, click-to-filter on map nodes, open/close chain groups.
 * Everything else (layout, chart) is drawn in Python; this only shows and hides what is there. */
(function () {
  "use strict";

  var input = document.getElementById("ssot-search");
  var status = document.getElementById("ssot-search-status");
  var clear = document.getElementById("ssot-search-clear");

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function hit(element, query) {
    return (element.getAttribute("data-search") || "").indexOf(query) !== -1;
  }

  function apply() {
    var query = input.value.trim().toLowerCase();
    var nodes = all(".ssot-map .node");
    var shownNodes = 0;
    nodes.forEach(function (node) {
      var ok = !query || hit(node, query);
      node.classList.toggle("dim", !ok);
      node.classList.toggle("match", Boolean(query) && ok);
      if (ok) { shownNodes += 1; }
    });
    all(".ssot-map .edge").forEach(function (edge) {
      edge.classList.toggle("dim", Boolean(query) && !hit(edge, query));
    });
    var chains = all(".chains li.chain");
    var shownChains = 0;
    chains.forEach(function (chain) {
      var ok = !query || hit(chain, query);
      chain.hidden = !ok;
      if (ok) { shownChains += 1; }
    });
    all(".chains details.group").forEach(function (group) {
      var visible = all("li.chain", group).some(function (c) { return !c.hidden; });
      group.hidden = !visible;
      if (query && visible) { group.open = true; }
    });
    if (status) {
      status.textContent = query
        ? shownNodes + " of " + nodes.length + " map nodes, " + shownChains + " of " +
          chains.length + " chains match"
        : nodes.length + " map nodes, " + chains.length + " chains";
    }
  }

  function filterTo(value) {
    input.value = value;
    apply();
  }

  if (input) {
    input.addEventListener("input", apply);
    if (clear) { clear.addEventListener("click", function () { filterTo(""); input.focus(); }); }
    all(".ssot-map .node").forEach(function (node) {
      var pick = function () { filterTo(node.getAttribute("data-filter") || ""); };
      node.addEventListener("click", pick);
      node.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(); }
      });
    });
    apply();
  }

  all(".tools").forEach(function (tools) {
    var target = document.getElementById(tools.getAttribute("data-for"));
    all("button[data-open]", tools).forEach(function (button) {
      button.addEventListener("click", function () {
        var open = button.getAttribute("data-open") === "true";
        all("details.group", target).forEach(function (group) { group.open = open; });
      });
    });
  });
})();
