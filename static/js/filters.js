// Filter form on every dashboard page: editing a date switches the period to "custom", so the dates the
// reader typed win over a preset; choosing a preset clears the dates it replaces.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var select = form.querySelector("[data-period-select]");
  var dates = form.querySelectorAll("[data-period-date]");
  if (!select) return;
  dates.forEach(function (input) {
    input.addEventListener("change", function () { select.value = "custom"; });
  });
  select.addEventListener("change", function () {
    if (select.value !== "custom") dates.forEach(function (input) { input.value = ""; });
  });
})();

// Project search box: a large organisation's projects are not listed in the page; as the reader types, up to
// 20 matches from the project-search endpoint fill the datalist (the box submits the project's slug).
(function () {
  "use strict";
  var input = document.querySelector("[data-project-search]");
  var list = document.getElementById("project-choices");
  if (!input || !list) return;
  var timer = null;
  var asked = null;
  function fill(results) {
    list.querySelectorAll("option[data-found]").forEach(function (option) { option.remove(); });
    var anchor = list.firstChild; // matches go first, in the endpoint's order (by name)
    results.forEach(function (project) {
      var option = document.createElement("option");
      option.value = project.slug;
      option.textContent = project.team ? project.name + " (" + project.team + ")" : project.name;
      option.setAttribute("data-found", "");
      list.insertBefore(option, anchor);
    });
  }
  function search() {
    var text = input.value.trim();
    if (text === asked) return;
    asked = text;
    fetch(input.getAttribute("data-project-search") + "?q=" + encodeURIComponent(text), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) { if (asked === text) fill(body.results || []); })
      .catch(function () { /* no suggestions; typing a slug still works */ });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("focus", search, { once: true });
})();
