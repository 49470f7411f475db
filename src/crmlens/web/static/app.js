/* crmlens web: charts from JSON, sortable tables, CSRF header for htmx. No inline code. */
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof Plotly === "undefined") { return; }
    root.querySelectorAll("script.chart-data").forEach(function (node) {
      if (node.dataset.drawn) { return; }
      node.dataset.drawn = "1";
      var target = node.previousElementSibling;
      if (!target || !target.classList.contains("chart")) { return; }
      var fig = JSON.parse(node.textContent);
      var layout = fig.layout || {};
      layout.autosize = true;
      Plotly.newPlot(target, fig.data || [], layout,
        {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"]});
    });
  }

  function cellValue(row, index) {
    var cell = row.children[index];
    return cell ? cell.getAttribute("data-v") || "" : "";
  }

  function sortBy(th) {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      var result;
      if (numeric) {
        var fx = x === "" ? -Infinity : parseFloat(x);
        var fy = y === "" ? -Infinity : parseFloat(y);
        result = fx - fy;
      } else {
        result = x.localeCompare(y);
      }
      return ascending ? result : -result;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.addEventListener("click", function (event) {
    var th = event.target.closest("table.sortable th");
    if (th) { sortBy(th); }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  document.addEventListener("htmx:afterSettle", function () { drawCharts(document); });

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseText) {
      elt.outerHTML = xhr.responseText;
    }
  });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
}());
