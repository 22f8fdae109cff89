// Layout on narrow screens (issue 14 item 15), loaded by base.html on every page.
// 1. The main navigation folds behind its "Menu" button. Without this script the button stays hidden and the
//    navigation simply wraps, so nothing becomes unreachable when scripts fail.
// 2. Filter forms inside <details data-fold-narrow> start folded on a narrow screen (the page's content first)
//    and unfold again when the screen becomes wide, where their summary is hidden by app.css.
// The width matches the "Phone layout" media queries of static/css/app.css.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 880px)");

  var header = document.querySelector(".topbar");
  var toggle = header && header.querySelector(".nav-toggle");
  var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("nav-open", open);
  }
  if (toggle && nav) {
    header.classList.add("nav-collapsible");
    toggle.hidden = false;
    setOpen(false);
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu from anywhere inside it and gives focus back to its button.
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  var folds = document.querySelectorAll("details[data-fold-narrow]");
  function fold(isNarrow) {
    folds.forEach(function (details) {
      // A form with an error stays open: the reader must see what to correct.
      if (details.querySelector("[role=alert], .errorlist")) return;
      details.open = !isNarrow;
    });
  }
  fold(narrow.matches);
  narrow.addEventListener("change", function (event) {
    fold(event.matches);
    if (toggle && nav && !event.matches) setOpen(false);
  });
})();
