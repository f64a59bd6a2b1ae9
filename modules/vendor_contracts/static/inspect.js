// Inspector's phone page: tap an item to record one finding (with the chosen photo), see the score.
(function () {
  "use strict";
  var root = document.getElementById("inspect");
  if (!root || root.dataset.draft !== "yes") return;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var photo = document.getElementById("photo"), area = document.getElementById("area");
  var message = document.getElementById("inspect-message");
  photo.addEventListener("change", function () {
    document.getElementById("photo-name").textContent = photo.files.length ? photo.files[0].name : "";
  });
  root.querySelectorAll(".inspect-item").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = new FormData();
      form.append("item_code", button.dataset.code);
      if (button.dataset.kind) form.append("kind", button.dataset.kind);
      form.append("area", area.value);
      form.append("count", "1");
      if (photo.files.length) form.append("photo", photo.files[0]);
      button.disabled = true;
      fetch("/api/v1/assessments/" + root.dataset.id + "/finding", {method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": token}, body: form})
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); })
        .then(function (a) {
          document.getElementById("score").textContent = a.final_score;
          document.getElementById("grade").textContent = a.grade;
          var key = button.dataset.code + (button.dataset.kind ? ":" + button.dataset.kind : "");
          var count = root.querySelector('[data-count="' + key + '"]');
          count.textContent = (parseInt(count.textContent || "0", 10) + 1);
          message.textContent = "✓ " + a.findings;
          photo.value = ""; document.getElementById("photo-name").textContent = "";
        })
        .catch(function (err) { message.textContent = err.message || "✗"; })
        .finally(function () { button.disabled = false; });
    });
  });
})();
