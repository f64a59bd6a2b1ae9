// The tender desk: each form posts its fields as JSON to its API; a refused step shows its reason.
(function () {
  var root = document.getElementById("tender-desk");
  if (!root) return;
  var message = document.getElementById("desk-message");

  function fileToBase64(file) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve({filename: file.name, content: reader.result.split(",")[1]}); };
      reader.readAsDataURL(file);
    });
  }

  function body(form) {
    var out = {}, files = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.type === "checkbox") out[el.name] = el.checked;
      else if (el.type === "file") Array.prototype.forEach.call(el.files, function (f) { files.push(fileToBase64(f)); });
      else if (el.multiple) out[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
      else if (el.name === "criteria") out.criteria = el.value.split("\n").filter(function (l) { return l.trim(); })
        .map(function (l) { var p = l.split("|"); return {title: (p[0] || "").trim(), kind: (p[1] || "").trim(),
                                                           max_points: (p[2] || "").trim()}; });
      else out[el.name] = el.value;
    });
    return Promise.all(files).then(function (list) { if (list.length) out.files = list; return out; });
  }

  root.querySelectorAll("form.desk-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      body(form).then(function (data) {
        return fetch(form.dataset.url, {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf}, body: JSON.stringify(data)});
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { message.textContent = data.message; message.hidden = false; return; }
          if (form.dataset.receipt && data.receipt) window.open(data.receipt, "_blank");
          location.reload();
        });
      });
    });
  });
})();
