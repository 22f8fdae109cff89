// Organisation overview: draw the three figures the page embeds with json_script.
// Figure text is escaped server-side (reports/charts.py); a bar click opens that project.
(function () {
  "use strict";
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  ["scope", "project", "month"].forEach(function (name) {
    var el = document.getElementById("chart-" + name);
    var source = document.getElementById("fig-" + name);
    if (!el || !source || typeof Plotly === "undefined") return;
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && point.customdata && point.customdata[0];
        // Only same-origin paths: the URL is built server-side, but never follow anything else.
        if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") window.location.assign(url);
      });
    });
  });
})();
