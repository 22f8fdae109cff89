// Import result page: poll the job's status.json every second and update the counts; reload once
// the job is finished so the rejected-rows table and downloads appear. Without JS a <noscript>
// meta refresh does the same.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  var url = box.dataset.statusUrl;
  var fields = document.querySelectorAll("[data-field]");

  function show(data) {
    fields.forEach(function (el) {
      var name = el.dataset.field;
      if (!(name in data)) {
        return;
      }
      if (el.tagName === "PROGRESS") {
        el.value = data[name];
        el.textContent = data[name] + " %";
      } else {
        el.textContent = typeof data[name] === "number" ? data[name].toLocaleString() : data[name];
      }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // a restart or a blip: keep trying, more slowly
      });
  }

  window.setTimeout(poll, 1000);
})();
