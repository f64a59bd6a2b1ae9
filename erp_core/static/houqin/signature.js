// Signature pads of action forms (an Input of kind "signature"): draw with finger, pen or
// mouse; on submit the PNG goes in the hidden input of the same name, only if something was drawn.
(function () {
  "use strict";
  document.querySelectorAll("canvas.houqin-signature").forEach(function (c) {
    var ctx = c.getContext("2d"), down = false, input = c.parentNode.querySelector("input[type=hidden]");
    function clear() { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height); input.value = ""; }
    function pos(e) { var r = c.getBoundingClientRect(); return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height]; }
    ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#000";
    c.addEventListener("pointerdown", function (e) { down = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); e.preventDefault(); });
    c.addEventListener("pointermove", function (e) { if (!down) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); c.dataset.drawn = "1"; });
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (t) { c.addEventListener(t, function () {
      if (down && c.dataset.drawn) input.value = c.toDataURL("image/png");
      down = false; }); });
    var button = c.parentNode.querySelector(".houqin-signature-clear");
    if (button) button.addEventListener("click", function () { clear(); c.dataset.drawn = ""; });
    clear();
  });
})();
