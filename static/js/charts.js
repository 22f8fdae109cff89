// Shared chart drawing for every page script (issue 14 item 15): the figures are built for a wide screen
// (reports/dashboards/charts.py and the other chart builders: legend at the right, one-line title); in a box
// narrower than NARROW px the same figure is redrawn readable: title wrapped onto lines that fit, legend below
// the plot, smaller margins, long category labels shortened (the full name stays in the hover text), and the
// two side-by-side panels of a comparison stacked. Crossing the width again (a phone turned) redraws.
// Text in figures is escaped server-side; lines are split at spaces only, so no entity is ever cut.
(function () {
  "use strict";
  var NARROW = 600;
  var LABEL_CHARS = 18;

  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  function titleText(title) { return typeof title === "string" ? title : (title && title.text) || ""; }

  // Greedy word wrap joined by Plotly's <br>; a single word longer than a line stays whole.
  function wrap(text, chars) {
    var lines = [];
    text.split(" ").forEach(function (word) {
      var last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= chars) lines[last] += " " + word;
      else lines.push(word);
    });
    return lines;
  }

  // Shorten an escaped label without cutting an entity such as &amp; in half.
  function shorten(label, chars) {
    var text = String(label);
    if (text.replace(/&[#\w]+;/g, "x").length <= chars) return text;
    var cut = text.slice(0, chars - 1).replace(/&[#\w]*$/, "");
    return cut + "…";
  }

  function rightAxis(layout) {
    return Object.keys(layout).some(function (key) {
      return /^yaxis\d*$/.test(key) && layout[key] && layout[key].side === "right";
    });
  }

  function narrowLayout(layout, data, width) {
    var l = copy(layout);
    var fontSize = 14;
    var lines = wrap(titleText(l.title), Math.max(16, Math.floor((width - 16) / (fontSize * 0.55))));
    if (lines.length && lines[0]) {
      // Above the plot area with automargin: Plotly then makes room for every line of the title.
      l.title = Object.assign({}, typeof l.title === "object" ? l.title : {}, {
        text: lines.join("<br>"), x: 0, xref: "container", xanchor: "left", y: 1, yref: "paper",
        yanchor: "bottom", automargin: true, font: Object.assign({}, (l.title && l.title.font) || {}, { size: fontSize }),
        pad: { l: 4, b: 10 },
      });
    }
    l.font = Object.assign({}, l.font || {}, { size: 12 });
    var margin = l.margin || {};
    l.margin = {
      // A second y-axis on the right (cost next to kgCO2e) keeps the room its ticks need.
      l: Math.min(margin.l === undefined ? 60 : margin.l, 40), r: rightAxis(l) ? 44 : 20, b: margin.b === undefined ? 40 : margin.b,
      t: 16, pad: 0,
    };
    // Twelve monthly ticks would stand on end at this width; a tick every quarter stays level (bars stay monthly).
    if (l.xaxis && l.xaxis.type === "date" && l.xaxis.dtick === "M1") l.xaxis = Object.assign({}, l.xaxis, { dtick: "M3" });
    // Legend below the plot, left-aligned, in as many rows as it needs; the container reference keeps it clear
    // of the axis ticks and title, and the margin grows to hold it (Plotly pushes the margin for it).
    var named = data.filter(function (trace) { return trace.showlegend !== false; }).length;
    var pie = data.some(function (trace) { return trace.type === "pie"; });
    if (l.showlegend !== false && (named > 1 || pie)) {
      l.legend = Object.assign({}, l.legend || {}, {
        orientation: "h", x: 0, xanchor: "left", xref: "container", y: 0, yanchor: "bottom", yref: "container",
      });
      var rows = pie ? Math.ceil(data[0].labels ? data[0].labels.length / 2 : 1) : Math.ceil(named / 2);
      l.margin.b += 24 * rows + 16;
    }
    // Horizontal bars: long category names would take half the width; the hover keeps the full name.
    data.forEach(function (trace) {
      if (trace.orientation === "h" && Array.isArray(trace.y)) {
        var axis = "yaxis" + (trace.yaxis && trace.yaxis !== "y" ? trace.yaxis.slice(1) : "");
        l[axis] = Object.assign({}, l[axis] || {}, {
          tickmode: "array", tickvals: trace.y, ticktext: trace.y.map(function (y) { return shorten(y, LABEL_CHARS); }),
        });
      }
    });
    // Two panels side by side (the experiment comparison) become two panels one above the other.
    if (l.xaxis2 && l.yaxis2 && l.xaxis && l.xaxis.domain) {
      l.xaxis.domain = [0, 1];
      l.xaxis2.domain = [0, 1];
      l.yaxis = Object.assign({}, l.yaxis || {}, { domain: [0.58, 1] });
      l.yaxis2 = Object.assign({}, l.yaxis2, { domain: [0, 0.42] });
      l.height = Math.max(l.height || 0, 560);
    }
    return l;
  }

  // Draw `fig` into `el` and keep it readable at the box's width; resolves like Plotly.newPlot.
  function draw(el, fig, config) {
    var wide = fig.layout || {};
    function layoutFor() { return el.clientWidth && el.clientWidth < NARROW ? narrowLayout(wide, fig.data, el.clientWidth) : copy(wide); }
    var isNarrow = el.clientWidth < NARROW;
    var drawn = Plotly.newPlot(el, fig.data, layoutFor(), config);
    window.addEventListener("resize", function () {
      if ((el.clientWidth < NARROW) !== isNarrow) {
        isNarrow = !isNarrow;
        Plotly.react(el, fig.data, layoutFor(), config);
      }
    });
    return drawn;
  }

  window.GreenESGCharts = { draw: draw, narrowLayout: narrowLayout };
})();
