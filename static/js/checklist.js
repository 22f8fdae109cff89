// Checklists (a fieldset of checkboxes, e.g. a member's projects): a small filter box above the list hides the
// options whose label does not contain the typed text. Hidden options keep their checked state, so filtering
// never changes what is saved. Without JS the full list of checkboxes still works.
// For keyboard and screen-reader users: the box names the list it filters (aria-controls), a polite status says
// how many options are shown, and Enter in the box does not submit the surrounding form (people press Enter after
// typing a filter; it must not save a half-edited member).
(function () {
  "use strict";
  document.querySelectorAll("fieldset.checklist").forEach(function (fieldset, index) {
    var options = fieldset.querySelectorAll("input[type=checkbox]");
    if (options.length < 2) return;
    var legend = fieldset.querySelector("legend");
    var name = legend ? legend.textContent.trim() : "options";
    var list = options[0].closest("fieldset > div");
    var box = document.createElement("div");
    box.className = "checklist-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "checklist-filter-" + index;
    input.placeholder = "Filter…";
    input.setAttribute("aria-label", "Filter " + name);
    if (list && list.id) input.setAttribute("aria-controls", list.id);
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.id = "checklist-status-" + index;
    status.setAttribute("role", "status");
    input.setAttribute("aria-describedby", status.id);
    box.appendChild(input);
    box.appendChild(status);
    fieldset.insertBefore(box, legend ? legend.nextSibling : fieldset.firstChild);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      var shown = 0;
      options.forEach(function (option) {
        var label = option.closest("label") || option.parentElement;
        var row = label.parentElement && label.parentElement.tagName === "DIV" ? label.parentElement : label;
        row.hidden = text !== "" && label.textContent.toLowerCase().indexOf(text) === -1;
        if (!row.hidden) shown += 1;
      });
      status.textContent = text === "" ? "" : shown + " of " + options.length + " " + name.toLowerCase() + " shown";
    });
  });
})();
