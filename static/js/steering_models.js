// Steering models page: draw the figure embedded with json_script (no inline script: CSP script-src 'self').
(function () {
  "use strict";
  var el = document.getElementById("chart-models");
  var source = document.getElementById("fig-models");
  if (!el || !source || typeof Plotly === "undefined") return;
  var fig = JSON.parse(source.textContent);
  GreenESGCharts.draw(el, fig, { responsive: true, displaylogo: false });
})();
