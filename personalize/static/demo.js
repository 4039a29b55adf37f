// The demo storefront's own script (loaded from 'self' under its CSP; no inline handlers).
// It only talks to the public snippet: the visitor's consent as they choose it, cart and search events.
(function () {
  "use strict";
  var pz = (window.pz = window.pz || []);
  var config = window.pzConfig || {};
  function onSubmit(event) {
    var form = event.target;
    var consent = event.submitter && event.submitter.getAttribute("data-pz-consent");
    var added = form.getAttribute("data-pz-add");
    var removed = form.getAttribute("data-pz-remove");
    if (consent) pz.push(["consent", consent === "on"]); // the back end remembers it for the next pages
    if (added) pz.push(["track", { type: "add_to_cart", item_id: added, quantity: 1 }]);
    if (removed) pz.push(["track", { type: "remove_from_cart", item_id: removed }]);
  }
  document.addEventListener("submit", onSubmit);
  var page = config.page || {};
  if (page.type === "search" && page.query) pz.push(["track", { type: "search", query: String(page.query) }]);
})();
