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
