// Signature pad for the counter tablet: draw with finger, pen or mouse, post the PNG.
(function () {
  var box = document.querySelector(".houqin-sign");
  if (!box) return;
  var canvas = document.getElementById("signature-pad"), ctx = canvas.getContext("2d");
  var drawing = false, drawn = false;
  ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#000";
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  function pos(e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
  canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
  ["pointerup", "pointerleave"].forEach(function (t) { canvas.addEventListener(t, function () { drawing = false; }); });
  document.getElementById("signature-clear").addEventListener("click", function () {
    ctx.fillRect(0, 0, canvas.width, canvas.height); drawn = false;
  });
  document.getElementById("signature-save").addEventListener("click", function () {
    var status = document.getElementById("signature-status");
    if (!drawn) { status.textContent = status.dataset.empty || "✗"; return; }
    var token = document.querySelector('meta[name="csrf-token"]').content;
    fetch("/api/v1/rentals/signature", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({loan: box.dataset.loan, kind: box.dataset.kind, png: canvas.toDataURL("image/png")})
    }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (res) { status.textContent = res[0] ? "✓" : (res[1].message || "✗"); status.dataset.ok = res[0]; });
  });
})();
