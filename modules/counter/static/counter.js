// The counter screen: scan -> one form -> receipt. Keyboard (Enter, Esc, F2) and touch alike:
// every key has a button; Enter confirms only a complete step (a lend needs the signature).
(function () {
  "use strict";
  var root = document.getElementById("counter");
  if (!root) return;
  var words = JSON.parse(document.getElementById("counter-words").textContent);
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
  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; }); }
  function cents(value) { return Math.round(parseFloat(value || "0") * 100) || 0; }
  function yuan(c) {
    var s = (Math.abs(c) / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (c < 0 ? "−¥" : "¥") + s;
  }
  function say(text, ok) { message.textContent = text || ""; message.className = "counter-message " + (ok ? "ok" : "error"); }
  function fill(panel, data) {
    panel.querySelectorAll("[data-field]").forEach(function (el) { el.textContent = data[el.dataset.field] || ""; });
  }
  function visible() { return panels.find(function (p) { return !p.hidden; }) || null; }
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
  function clearPad(c) {
    var x = c.getContext("2d"); x.fillStyle = "#fff"; x.fillRect(0, 0, c.width, c.height);
    c.dataset.drawn = ""; c.classList.remove("missing");
  }
  document.querySelectorAll(".counter-signature").forEach(function (c) {
    var ctx = c.getContext("2d"), down = false;
    ctx.lineWidth = 2.5; ctx.lineCap = "round";
    function pos(e) { var r = c.getBoundingClientRect(); return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height]; }
    c.addEventListener("pointerdown", function (e) { down = true; c.focus(); var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
    c.addEventListener("pointermove", function (e) {
      if (!down) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); c.dataset.drawn = "1"; c.classList.remove("missing");
    });
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (t) { c.addEventListener(t, function () { down = false; }); });
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

  // The basket: each line's quantity can be changed (0 removes it) or the line removed.
  function cartTotal() { return cart.reduce(function (t, l) { return t + l.price * l.qty; }, 0); }
  function renderCart() {
    var body = document.querySelector("#cart tbody");
    body.innerHTML = "";
    cart.forEach(function (line, i) {
      var tr = document.createElement("tr"), name = document.createElement("td"), qty = document.createElement("td"),
          amount = document.createElement("td"), remove = document.createElement("td");
      name.textContent = line.title;
      var input = document.createElement("input");
      input.type = "number"; input.min = "0"; input.value = line.qty; input.className = "form-control";
      input.setAttribute("aria-label", words.qty + " " + line.title); input.dataset.code = line.code;
      input.addEventListener("change", function () {
        var n = parseInt(input.value, 10);
        if (!(n > 0)) cart.splice(i, 1); else line.qty = n;
        renderCart();
      });
      qty.appendChild(input);
      amount.textContent = yuan(line.price * line.qty);
      var button = document.createElement("button");
      button.type = "button"; button.className = "btn btn-default"; button.textContent = "✕";
      button.title = words.remove + " " + line.title; button.setAttribute("aria-label", button.title);
      button.addEventListener("click", function () { cart.splice(i, 1); renderCart(); code.focus(); });
      remove.appendChild(button);
      [name, qty, amount, remove].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    });
    if (cart.length) {
      var tr = document.createElement("tr"), label = document.createElement("th"), total = document.createElement("th");
      label.colSpan = 2; label.textContent = words.total; total.textContent = yuan(cartTotal());
      tr.appendChild(label); tr.appendChild(total); tr.appendChild(document.createElement("th")); body.appendChild(tr);
    }
    document.getElementById("checkout-button").style.display = cart.length ? "" : "none";
    if (!document.getElementById("checkout-form").hidden) {
      if (cart.length) fill(document.getElementById("checkout-form"), {total: yuan(cartTotal())}); else reset();
    }
    return yuan(cartTotal());
  }
  function checkout() {
    if (cart.length) show("checkout-form", {total: yuan(cartTotal())}); else say(words.empty, false);
  }

  // Before a return: fees so far, the deposit and what comes back, with the damage charge typed in.
  function renderQuote() {
    var loan = current && current.loan;
    if (!loan) return;
    var form = document.getElementById("return-form"), damage = cents(form.elements.damage_charge.value);
    var charges = cents(loan.rental_now) + cents(loan.late_now) + damage, deposit = cents(loan.deposit);
    var applied = Math.min(deposit, charges);
    var rows = [[words.lent, loan.lent_text], [words.due, loan.due_text + (loan.overdue ? " (" + words.overdue + ")" : "")],
                [words.rental, yuan(cents(loan.rental_now))], [words.late, yuan(cents(loan.late_now))],
                [words.damage, yuan(damage)], [words.deposit, yuan(deposit)], [words.refund, yuan(deposit - applied)]];
    if (charges > applied) rows.push([words.balance, yuan(charges - applied)]);
    var body = document.querySelector("#return-quote tbody");
    body.innerHTML = "";
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      if (row[0] === words.refund || row[0] === words.balance) tr.className = "counter-refund";
      row.forEach(function (t) { var td = document.createElement("td"); td.textContent = t; tr.appendChild(td); });
      body.appendChild(tr);
    });
  }
  // a damage note or charge means the item is damaged: tick it for the clerk
  ["damage_note", "damage_charge"].forEach(function (name) {
    var form = document.getElementById("return-form");
    form.elements[name].addEventListener("input", function () {
      if (form.elements[name].value.trim()) form.elements.damaged.checked = true;
      renderQuote();
    });
  });

  function done(result) {
    show("done-panel", {summary: result.summary});
    var link = document.getElementById("print-link");
    link.style.display = result.print ? "" : "none";
    if (result.print) { link.href = result.print; link.focus(); } else { code.focus(); }
    say("", true);                   // the panel says it
  }

  function lookup() {
    var value = code.value.trim();
    if (!value) { checkout(); return; }
    code.value = "";                  // at once: a fast scanner's next code must not be wiped by this answer
    api("GET", "/api/v1/counter/lookup?code=" + encodeURIComponent(value)).then(function (found) {
      current = found;
      say("", true);
      if (found.kind === "item") {
        var line = cart.find(function (l) { return l.code === found.code; });
        if (line) line.qty += 1; else cart.push({code: found.code, title: found.title, price: cents(found.price), qty: 1});
        show(null);
        renderCart();
        say(fmt(words.added, {item: found.title, stock: found.stock, unit: found.unit}), true);
        code.focus();
      } else if (found.kind === "tag") {
        show(found.status === "stored" ? "pickup-form" : null, found);
        if (found.status !== "stored") say(found.tag + "：" + found.status_label, false);
      } else if (found.status === "available") {
        show("lend-form", found);
        document.querySelector("#lend-form [name=deposit]").value = found.deposit;
        document.querySelector("#lend-form [name=borrower_name]").focus();
      } else if (found.status === "lent") {
        show("return-form", {title: found.title, code: found.code,
                             borrower: found.loan.borrower + " " + found.loan.ward_bed + " · " + found.loan.name});
        renderQuote();
      } else if (found.status === "disinfection" || found.status === "maintenance") {
        show("disinfect-form", found);
      } else {
        say(fmt(words.not_now, {code: found.code, status: found.status_label}), false);
      }
    }).catch(function (err) { say(err.message, false); if (!code.value) { code.value = value; code.select(); } });
  }
  document.getElementById("scan-form").addEventListener("submit", function (e) { e.preventDefault(); lookup(); });

  function action(formId, name, payload) {
    document.getElementById(formId).addEventListener("submit", function (e) {
      e.preventDefault();
      var form = e.target, body = payload(formData(form));
      body.signature = signature(form);
      if (name === "lend" && !body.signature) {        // the step is not complete: ask for the signature
        var pad = form.querySelector("canvas");
        pad.classList.add("missing"); pad.focus(); say(words.sign, false);
        return;
      }
      var button = form.querySelector(".counter-confirm");
      button.disabled = true;
      api("POST", "/api/v1/counter/act/" + name, body).then(function (result) {
        if (name === "sell") { cart = []; renderCart(); }
        done(result);
      }).catch(function (err) { say(err.message, false); }).finally(function () { button.disabled = false; });
    });
  }
  action("lend-form", "lend", function (d) { d.code = current.code; return d; });
  action("return-form", "return", function (d) { d.code = current.code; return d; });
  action("disinfect-form", "disinfect", function (d) { d.code = current.code; return d; });
  action("pickup-form", "pickup", function (d) { d.code = current.tag; return d; });
  action("store-form", "store", function (d) { return d; });
  action("checkout-form", "sell", function (d) { d.lines = cart.map(function (l) { return {code: l.code, qty: l.qty}; }); return d; });

  document.getElementById("clerk-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var d = formData(e.target);
    api("POST", "/api/v1/counter/clerk", d).then(function (r) {
      document.getElementById("clerk-name").textContent = r.name; e.target.reset();
      say(fmt(words.clerk, {clerk: r.name}), true); code.focus();
    }).catch(function (err) { say(err.message, false); });
  });

  // the buttons of the keys
  function store() { show("store-form"); say("", true); }
  document.getElementById("store-button").addEventListener("click", store);
  document.getElementById("cancel-button").addEventListener("click", reset);
  document.getElementById("checkout-button").addEventListener("click", checkout);
  root.querySelectorAll(".counter-cancel").forEach(function (b) { b.addEventListener("click", reset); });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); reset(); return; }
    if (e.key === "F2") { e.preventDefault(); store(); return; }
    if (e.key !== "Enter") return;
    var panel = visible(), tag = e.target.tagName;
    // Enter on a drop-down, on the signature pad or on nothing in particular confirms the open form
    // (its submit handler still refuses an incomplete step); fields submit their form themselves.
    if (panel && panel.tagName === "FORM" && (tag === "SELECT" || tag === "CANVAS" || tag === "BODY")) {
      e.preventDefault(); panel.requestSubmit();
    }
  });
})();
