// Billing dashboard: draw the figures embedded with json_script (text escaped server-side, reports/dashboards/billing/charts.py).
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source || typeof Plotly === "undefined") return;
    var fig = JSON.parse(source.textContent);
    if (fig) GreenESGCharts.draw(el, fig, config);
  });
})();
