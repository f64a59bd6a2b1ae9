// Inspector's phone page: tap an item to record one finding (with the chosen photo); the page says
// what was recorded, shows the area's findings with photos, undoes a wrong tap while the month is
// a draft, and reloads the counts from the server when the area changes.
(function () {
  "use strict";
  var root = document.getElementById("inspect");
  if (!root) return;
  var data = JSON.parse(document.getElementById("inspect-data").textContent), words = data.words;
  var draft = root.dataset.draft === "yes", base = "/api/v1/assessments/" + root.dataset.id;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var photo = document.getElementById("photo"), area = document.getElementById("area");
  var message = document.getElementById("inspect-message");
  var findings = data.findings, effects = data.effects;

  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; }); }
  function call(method, url, body) {
    var headers = {"X-CSRFToken": token};
    if (body && !(body instanceof FormData)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch(url, {method: method, credentials: "same-origin", headers: headers, body: body})
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); });
  }
  function keyOf(f) { return f.item_code + (f.kind ? ":" + f.kind : ""); }
  function update(a) {
    findings = a.items; effects = a.effects;
    document.getElementById("score").textContent = a.final_score === "None" ? "" : a.final_score;
    document.getElementById("grade").textContent = a.grade;
    render();
  }
  function render() {
    var here = findings.filter(function (f) { return f.area === area.value; }), counts = {};
    here.forEach(function (f) { counts[keyOf(f)] = (counts[keyOf(f)] || 0) + f.count; });
    root.querySelectorAll("[data-count]").forEach(function (el) { el.textContent = counts[el.dataset.count] || ""; });
    var texts = effects[area.value] || {};
    root.querySelectorAll("[data-effect]").forEach(function (el) { el.textContent = texts[el.dataset.effect] || ""; });
    var list = document.getElementById("inspect-findings");
    list.innerHTML = "";
    if (!here.length) { var li = document.createElement("li"); li.className = "text-muted"; li.textContent = words.none; list.appendChild(li); }
    here.slice().reverse().forEach(function (f) {
      var li = document.createElement("li"), text = document.createElement("div");
      li.className = "inspect-finding"; li.dataset.finding = f.id;
      text.innerHTML = "<strong></strong><br><small></small>";
      text.querySelector("strong").textContent = f.title + " · " + fmt(words.times, {count: f.count});
      text.querySelector("small").textContent = [f.location, f.note, f.by, f.at].filter(Boolean).join(" · ");
      if (f.photo) {
        var link = document.createElement("a"), img = document.createElement("img");
        link.href = f.photo; link.target = "_blank"; img.src = f.photo; img.alt = words.photo; img.className = "inspect-thumb";
        link.appendChild(img); li.appendChild(link);
      }
      li.appendChild(text);
      if (draft) {
        var undo = document.createElement("button");
        undo.type = "button"; undo.className = "btn btn-default inspect-undo"; undo.textContent = words.undo;
        undo.setAttribute("aria-label", words.undo + " " + f.title);
        undo.addEventListener("click", function () {
          undo.disabled = true;
          call("POST", base + "/finding/undo", {finding: f.id}).then(function (a) {
            update(a);
            message.textContent = fmt(words.undone, {title: f.title, score: a.final_score, grade: a.grade});
          }).catch(function (err) { message.textContent = err.message || ""; undo.disabled = false; });
        });
        li.appendChild(undo);
      }
      list.appendChild(li);
    });
  }
  if (area.tagName === "SELECT") {
    area.addEventListener("change", function () {
      render();                                        // at once from what is known, then from the server
      call("GET", base + "/findings").then(update).catch(function (err) { message.textContent = err.message || ""; });
    });
  }
  if (photo) photo.addEventListener("change", function () {
    document.getElementById("photo-name").textContent = photo.files.length ? photo.files[0].name : "";
  });
  if (draft) root.querySelectorAll(".inspect-item").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = new FormData();
      form.append("item_code", button.dataset.code);
      if (button.dataset.kind) form.append("kind", button.dataset.kind);
      form.append("area", area.value);
      form.append("count", "1");
      if (photo && photo.files.length) form.append("photo", photo.files[0]);
      button.disabled = true;
      call("POST", base + "/finding", form).then(function (a) {
        update(a);
        var f = a.items[a.items.length - 1];
        message.textContent = fmt(f.area ? words.recorded : words.recorded_noarea,
                                  {title: f.title, area: f.area, count: f.count, score: a.final_score, grade: a.grade});
        photo.value = ""; document.getElementById("photo-name").textContent = "";
      }).catch(function (err) { message.textContent = err.message || ""; }).finally(function () { button.disabled = false; });
    });
  });
  render();
})();
