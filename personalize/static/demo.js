// The demo storefront's own script (loaded from 'self' under its CSP; no inline handlers).
// It only talks to the public snippet: consent switches and cart tracking.
(function () {
  "use strict";
  var pz = (window.pz = window.pz || []);
  function onClick(event) {
    var button = event.target.closest("[data-pz-consent]");
    if (!button) return;
    pz.push(["consent", button.getAttribute("data-pz-consent") === "on"]);
    window.setTimeout(function () { window.location.reload(); }, 50);
  }
  function onSubmit(event) {
    var form = event.target;
    var added = form.getAttribute("data-pz-add");
    var removed = form.getAttribute("data-pz-remove");
    if (added) pz.push(["track", { type: "add_to_cart", item_id: added, quantity: 1 }]);
    if (removed) pz.push(["track", { type: "remove_from_cart", item_id: removed }]);
  }
  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit);
})();
