// The counter screen: scan -> one form -> receipt, all keyboard-driven (Enter, Esc, F2).
(function () {
  "use strict";
  var root = document.getElementById("counter");
  if (!root) return;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var code = document.getElementById("code"), message = document.getElementById("message");
  var panels = ["lend-form", "return-form", "disinfect-form", "pickup-form", "store-form", "checkout-form", "done-panel"]
    .map(function (id) { return document.getElementById(id); });
  var current = null, cart = [];

  function api(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); });
  }
  function say(text, ok) { message.textContent = text || ""; message.className = "counter-message " + (ok ? "ok" : "error"); }
  function fill(panel, data) {
    panel.querySelectorAll("[data-field]").forEach(function (el) { el.textContent = data[el.dataset.field] || ""; });
  }
  function show(id, data) {
    panels.forEach(function (p) { p.hidden = p.id !== id; });
    var panel = document.getElementById(id);
    if (!panel) return;
    if (panel.tagName === "FORM") panel.reset();
    panel.querySelectorAll("canvas").forEach(clearPad);
    fill(panel, data || {});
    var first = panel.querySelector("input:not([type=checkbox]), select, a");
    if (first) first.focus();
  }
  function reset() { show(null); current = null; code.value = ""; code.focus(); }

  // Signature pads: finger, pen or mouse; sent as PNG only if something was drawn.
  function clearPad(c) { var x = c.getContext("2d"); x.fillStyle = "#fff"; x.fillRect(0, 0, c.width, c.height); c.dataset.drawn = ""; }
  document.querySelectorAll(".counter-signature").forEach(function (c) {
    var ctx = c.getContext("2d"), down = false;
    ctx.lineWidth = 2.5; ctx.lineCap = "round";
    function pos(e) { var r = c.getBoundingClientRect(); return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height]; }
    c.addEventListener("pointerdown", function (e) { down = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
    c.addEventListener("pointermove", function (e) { if (!down) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); c.dataset.drawn = "1"; });
    ["pointerup", "pointerleave"].forEach(function (t) { c.addEventListener(t, function () { down = false; }); });
    clearPad(c);
  });
  function signature(form) {
    var c = form.querySelector("canvas");
    return c && c.dataset.drawn ? c.toDataURL("image/png") : null;
  }
  function formData(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      data[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return data;
  }
  function renderCart() {
    var body = document.querySelector("#cart tbody"), total = 0;
    body.innerHTML = "";
    cart.forEach(function (line) {
      var tr = document.createElement("tr");
      [line.title, "× " + line.qty, "¥" + (line.price * line.qty).toFixed(2)].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      body.appendChild(tr);
      total += line.price * line.qty;
    });
    return "¥" + total.toFixed(2);
  }
  function done(result, summary) {
    show("done-panel", {summary: summary});
    var link = document.getElementById("print-link");
    link.href = result.print;
    link.focus();
    say(summary, true);
  }

  document.getElementById("scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = code.value.trim();
    if (!value) {
      if (cart.length) show("checkout-form", {total: renderCart()});
      return;
    }
    api("GET", "/api/v1/counter/lookup?code=" + encodeURIComponent(value)).then(function (found) {
      current = found;
      code.value = "";
      say("", true);
      if (found.kind === "item") {
        var line = cart.find(function (l) { return l.code === found.code; });
        if (line) line.qty += 1; else cart.push({code: found.code, title: found.title, price: parseFloat(found.price), qty: 1});
        renderCart();
        say(found.title + " ×1 (" + found.stock + " " + found.unit + ")", true);
        code.focus();
      } else if (found.kind === "tag") {
        show(found.status === "stored" ? "pickup-form" : null, found);
        if (found.status !== "stored") say(found.tag + ": " + found.status, false);
      } else if (found.status === "available") {
        show("lend-form", found);
        document.querySelector("#lend-form [name=deposit]").value = found.deposit;
        document.querySelector("#lend-form [name=borrower_name]").focus();
      } else if (found.status === "lent") {
        show("return-form", {title: found.title, code: found.code, borrower: found.loan.borrower + " " + found.loan.ward_bed});
      } else if (found.status === "disinfection" || found.status === "maintenance") {
        show("disinfect-form", found);
      } else {
        say(found.code + ": " + found.status_label, false);
      }
    }).catch(function (err) { say(err.message, false); code.select(); });
  });

  function action(formId, name, payload, summary) {
    document.getElementById(formId).addEventListener("submit", function (e) {
      e.preventDefault();
      var form = e.target, body = payload(formData(form));
      body.signature = signature(form);
      api("POST", "/api/v1/counter/act/" + name, body).then(function (result) {
        if (name === "sell") { cart = []; renderCart(); }
        done(result, summary(result));
      }).catch(function (err) { say(err.message, false); });
    });
  }
  action("lend-form", "lend", function (d) { d.code = current.code; return d; }, function (r) { return r.name + " · " + r.asset; });
  action("return-form", "return", function (d) { d.code = current.code; return d; },
         function (r) { return r.name + " · ¥" + r.refund; });
  action("disinfect-form", "disinfect", function (d) { d.code = current.code; return d; },
         function (r) { return r.code + " ✓"; });
  action("pickup-form", "pickup", function (d) { d.code = current.tag; return d; }, function (r) { return r.tag + " ✓"; });
  action("store-form", "store", function (d) { return d; }, function (r) { return r.tag; });
  action("checkout-form", "sell", function (d) { d.lines = cart.map(function (l) { return {code: l.code, qty: l.qty}; }); return d; },
         function (r) { return r.name + " · ¥" + r.total; });
  // the disinfection panel has no print: go straight back to scanning
  document.getElementById("disinfect-form").addEventListener("submit", function () { setTimeout(function () {
    if (!document.getElementById("done-panel").hidden) { reset(); say(message.textContent, true); } }, 300); });

  document.getElementById("clerk-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var d = formData(e.target);
    api("POST", "/api/v1/counter/clerk", d).then(function (r) {
      document.getElementById("clerk-name").textContent = r.clerk; e.target.reset(); say(r.clerk + " ✓", true); code.focus();
    }).catch(function (err) { say(err.message, false); });
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); reset(); }
    if (e.key === "F2") { e.preventDefault(); show("store-form"); }
    // Enter on a drop-down (payment method, disinfection method) confirms the form too
    if (e.key === "Enter" && e.target.tagName === "SELECT" && e.target.form) { e.preventDefault(); e.target.form.requestSubmit(); }
  });
})();
