// ESG pages: draw every figure embedded with json_script and named by a data-figure attribute.
// Figure text is escaped server-side (esg/charts.py); no inline script (CSP script-src 'self').
(function () {
  "use strict";
  if (typeof Plotly === "undefined") return;
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) return;
    var fig = JSON.parse(source.textContent);
    if (fig) GreenESGCharts.draw(el, fig, config);
  });
})();
