// Checklists (a fieldset of checkboxes, e.g. a member's projects): a small filter box above the list hides the
// options whose label does not contain the typed text. Hidden options keep their checked state, so filtering
// never changes what is saved. Without JS the full list of checkboxes still works.
(function () {
  "use strict";
  document.querySelectorAll("fieldset.checklist").forEach(function (fieldset, index) {
    var options = fieldset.querySelectorAll("input[type=checkbox]");
    if (options.length < 2) return;
    var box = document.createElement("div");
    box.className = "checklist-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "checklist-filter-" + index;
    input.placeholder = "Filter…";
    input.setAttribute("aria-label", "Filter " + (fieldset.querySelector("legend") || {}).textContent);
    box.appendChild(input);
    var legend = fieldset.querySelector("legend");
    fieldset.insertBefore(box, legend ? legend.nextSibling : fieldset.firstChild);
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      options.forEach(function (option) {
        var label = option.closest("label") || option.parentElement;
        var row = label.parentElement && label.parentElement.tagName === "DIV" ? label.parentElement : label;
        row.hidden = text !== "" && label.textContent.toLowerCase().indexOf(text) === -1;
      });
    });
  });
})();
