// Project and comparison pages: draw every figure embedded with json_script (one per [data-figure] element).
// Figure text is escaped server-side (reports/dashboards/charts.py). A click on a bar follows its drill-down link; keyboard
// users follow the same links in the table under each chart (Plotly charts are not keyboard-operable).
(function () {
  "use strict";
  if (typeof Plotly === "undefined") return;
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  function sameOrigin(url) {
    // Only same-origin paths: the URL is built server-side, but never follow anything else.
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) return;
    var fig = JSON.parse(source.textContent);
    GreenESGCharts.draw(el, fig, config).then(function () {
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && point.customdata && point.customdata[0];
        if (sameOrigin(url)) window.location.assign(url);
      });
    });
  });
})();
