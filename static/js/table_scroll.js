// Every page: a table wider than its box scrolls inside the box (.table-wrap), which a keyboard user can only do
// once the box is a tab stop. Such a box becomes a labelled region with tabindex="0" (named after the table's
// caption or its section's heading), so Tab reaches it and the arrow keys scroll it (WCAG 2.1.1). Boxes that fit
// stay out of the tab order; a box the template already made a tab stop (the runs table) is left as it is.
// A page without .table-wrap boxes whose tables scroll in themselves (the ESRS report's web view shares its markup
// with the PDF) names those tables in <body data-scroll-boxes="selector">: an overflowing one only gets
// tabindex="0", keeping its table role and its caption as its name.
(function () {
  "use strict";
  var extra = document.body.getAttribute("data-scroll-boxes");
  var boxes = ".table-wrap" + (extra ? ", " + extra : "");
  function label(box) {
    var table = box.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var section = box.closest("section[aria-labelledby]");
    var heading = section && document.getElementById(section.getAttribute("aria-labelledby"));
    if (heading && heading.textContent.trim()) return heading.textContent.trim() + " table";
    return "Table";
  }
  function update() {
    document.querySelectorAll(boxes).forEach(function (box) {
      if (box.hasAttribute("data-scroll-static")) return;
      if (box.hasAttribute("tabindex") && !box.hasAttribute("data-scroll-region")) {
        box.setAttribute("data-scroll-static", "");
        return;
      }
      var isTable = box.tagName === "TABLE";
      var overflows = box.scrollWidth > box.clientWidth + 1;
      if (overflows && !box.hasAttribute("data-scroll-region")) {
        box.setAttribute("data-scroll-region", "");
        box.setAttribute("tabindex", "0");
        if (!isTable) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", label(box) + ", scrolls sideways");
        }
      } else if (!overflows && box.hasAttribute("data-scroll-region")) {
        ["data-scroll-region", "tabindex", "role", "aria-label"].forEach(function (name) { box.removeAttribute(name); });
      }
    });
  }
  update();
  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
})();
