// Experiment page: emissions per run of one experiment over time; a point click opens that run's ledger record.
(function () {
  "use strict";
  var el = document.getElementById("chart-runs");
  var source = document.getElementById("fig-runs");
  if (!el || !source || typeof Plotly === "undefined") return;
  var fig = JSON.parse(source.textContent);
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  GreenESGCharts.draw(el, fig, config).then(function () {
    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var url = point && point.customdata && point.customdata[0];
      if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") window.location.assign(url);
    });
  });
})();
