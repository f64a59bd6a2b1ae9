// The expert's blind scoring sheet: declare, save points, submit (JSON API, same-origin cookie + CSRF).
(function () {
  var root = document.getElementById("scoring");
  if (!root) return;
  var api = "/api/v1/scoring/" + root.dataset.id;
  var message = document.getElementById("message");

  function post(path, body) {
    return fetch(api + path, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf},
      body: JSON.stringify(body || {})}).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { message.textContent = data.message; message.hidden = false; throw data; }
        return data;
      });
    });
  }

  var declare = document.getElementById("declare");
  if (declare) declare.addEventListener("submit", function (e) {
    e.preventDefault();
    post("/declare", {no_conflict: declare.no_conflict.value === "true", statement: declare.statement.value})
      .then(function () { location.reload(); });
  });

  var form = document.getElementById("scores");
  function scores() {
    var out = [];
    form.querySelectorAll("input[name]").forEach(function (input) {
      if (input.value.trim() === "") return;
      var parts = input.name.split(":");
      out.push({bid: parts[0], criterion: parseInt(parts[1], 10), points: input.value.trim()});
    });
    return out;
  }
  if (form) form.addEventListener("submit", function (e) {
    e.preventDefault();
    post("/scores", {scores: scores()}).then(function () { message.hidden = true; });
  });
  var submit = document.getElementById("submit-scores");
  if (submit) submit.addEventListener("click", function () {
    post("/scores", {scores: scores()}).then(function () { return post("/submit"); })
      .then(function () { location.reload(); });
  });
})();
