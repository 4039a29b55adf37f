/*
 * personalize snippet: fills a storefront's placeholders from POST /v1/page and reports clicks and
 * cart events to POST /v1/events.
 *
 * Loaded `async` by the inline stub (snippet-stub.js) after the page has declared window.pzConfig:
 *   {api: "" | "https://…", page: {type, category?, item_id?, cart?, cart_discount?, query?}, customerToken?,
 *    consent?: bool, placements?: [...], limit?, exclude?, currency?: "USD", locale?, country?,
 *    linkText?: "Shop now", debug?: bool}
 * Commands, queued before the script loads and run at once afterwards:
 *   pz.push(["consent", true | false]);  pz.push(["track", {type: "add_to_cart", item_id: "…"}]);
 *   pz.push(["page", {type: "product", item_id: "…"}]);   // a single-page app's next page view
 * Placeholders: data-pz-slot="<placement>" | "banner:<slot>" | "nudge" (optional data-pz-limit="N").
 *
 * Rules it follows (DOMAIN.md, "The snippet"): no dependencies, no eval or inline handlers (works under
 * a nonce CSP with no 'unsafe-inline' styles), renders with createElement/textContent only, only
 * http(s) links and images, nothing rendered before data arrives and empty slots stay hidden, no
 * cookie and no event before consent, a first-party session id that ends after 30 idle minutes.
 */
(function (window, document) {
  "use strict";

  var queue = window.pz;
  if (!Array.isArray(queue)) queue = window.pz = []; // the stub made it; a stray value is replaced
  if (queue.loaded) return; // the script was included twice: the first copy does the work

  var SESSION_COOKIE = "pz_sid";
  var RETURNING_COOKIE = "pz_ret";
  var CONSENT_COOKIE = "pz_consent";
  var SESSION_SECONDS = 30 * 60; // 30 minutes of inactivity end a session
  var YEAR_SECONDS = 365 * 24 * 60 * 60;
  var MAX_BATCH = 500;
  var SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
  var ITEM_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
  var PLACEMENT = /^[a-z0-9_]{1,64}$/;
  // placements the server knows (it writes the list in as it serves this file, from its placement registry); a
  // placeholder with another name is left out of the request (and hidden)
  var KNOWN_PLACEMENTS = /*pz:placements*/[];
  // the fields each event type accepts (the server refuses a batch holding any other field)
  var EVENT_FIELDS = {
    product_view: ["item_id", "placement"],
    click: ["item_id", "placement"],
    add_to_cart: ["item_id", "quantity"],
    remove_from_cart: ["item_id", "quantity"],
    search: ["query"],
    unsubscribe: []
  };

  var state = {
    consent: false,
    sessionId: null, // this page's session: from the cookie or the server's answer
    pending: [], // events waiting for the next tick (or for the session id)
    flushQueued: false,
    pageRuns: 0, // a later page call makes an earlier answer stale
    lastUrl: null // the previous page call's URL: the referrer of a single-page app's next view
  };

  // ---- small helpers ------------------------------------------------------------------------------

  function config() {
    var value = window.pzConfig;
    return value && typeof value === "object" ? value : {};
  }

  function warn(message, detail) {
    if (config().debug && window.console) window.console.warn("[pz] " + message, detail === undefined ? "" : detail);
  }

  function apiUrl(path) {
    return String(config().api || "").replace(/\/+$/, "") + path;
  }

  function clip(value, length) {
    return typeof value === "string" && value ? value.slice(0, length) : undefined;
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    var text = "";
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    for (var j = 0; j < bytes.length; j++) text += (bytes[j] + 256).toString(16).slice(1);
    return "ev-" + text;
  }

  // A link or image address, resolved against the page, if and only if it is an absolute http(s) URL or a
  // path on this site: a "javascript:", "data:" or any other scheme is dropped (DOMAIN.md: links and images
  // must be http(s)), and so are "//host" and "/\host", which a browser reads as another site.
  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    if (!/^(https?:\/\/[A-Za-z0-9]|\/(?![\/\\]))/i.test(value) || /[\s\\]/.test(value.split("?")[0])) return null;
    try {
      var url = new URL(value, document.baseURI);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  // ---- first-party cookies (only ever written with consent) ---------------------------------------

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) {
        try {
          return decodeURIComponent(parts[i].slice(eq + 1));
        } catch (error) {
          return null;
        }
      }
    }
    return null;
  }

  function writeCookie(name, value, maxAge) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie =
      name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + maxAge + "; SameSite=Lax" + secure;
  }

  // The session lives 30 minutes past the last page or event: every use renews the cookie.
  function renewSession() {
    if (state.consent && state.sessionId) writeCookie(SESSION_COOKIE, state.sessionId, SESSION_SECONDS);
  }

  // With consent: the session to continue and whether this browser was here in an earlier session.
  // pz_ret is "0" during the first session and "1" from the next one on, so the first session's later
  // pages do not count as a returning visit.
  function sessionAtPageStart() {
    var sessionId = readCookie(SESSION_COOKIE);
    if (sessionId && !SESSION_ID.test(sessionId)) sessionId = null;
    var seen = readCookie(RETURNING_COOKIE); // null: never here, "0": first session, "1": came back
    if (seen === "0" && !sessionId) seen = "1"; // the first session has ended
    writeCookie(RETURNING_COOKIE, seen || "0", YEAR_SECONDS);
    return { id: sessionId, returning: seen === "1" };
  }

  // ---- consent ------------------------------------------------------------------------------------

  // Before consent: no cookie is written, none is read for identity, and no event is sent; the page
  // call still runs with consent: false for non-personal content (trending, geo, landing source).
  function setConsent(on) {
    state.consent = on === true;
    if (state.consent) {
      writeCookie(CONSENT_COOKIE, "1", YEAR_SECONDS);
      renewSession(); // this page's session id (from the answer) becomes the visitor's
      flushSoon();
    } else {
      writeCookie(SESSION_COOKIE, "", 0);
      writeCookie(RETURNING_COOKIE, "", 0);
      writeCookie(CONSENT_COOKIE, "", 0);
      state.sessionId = null;
      state.pending = [];
    }
  }

  // ---- network ------------------------------------------------------------------------------------

  function postJson(path, body, keepalive) {
    return window.fetch(apiUrl(path), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit", // the API needs none of the shop's cookies
      keepalive: keepalive === true
    });
  }

  // Events outlive a navigation: fetch with keepalive, else a beacon.
  function sendEvents(body) {
    try {
      if (window.fetch) {
        postJson("/v1/events", body, true)["catch"](function (error) {
          warn("events not sent", error);
        });
      } else if (navigator.sendBeacon) {
        navigator.sendBeacon(apiUrl("/v1/events"), new Blob([JSON.stringify(body)], { type: "application/json" }));
      }
    } catch (error) {
      warn("events not sent", error);
    }
  }

  // ---- tracking -----------------------------------------------------------------------------------

  function cleanEvent(event) {
    var fields = event && typeof event === "object" && EVENT_FIELDS.hasOwnProperty(event.type) && EVENT_FIELDS[event.type];
    if (!fields) return null;
    var clean = { type: event.type, event_id: clip(event.event_id, 100) || randomId(), ts: Date.now() };
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i];
      var value = event[name];
      if (name === "item_id" && typeof value === "string" && ITEM_ID.test(value)) clean.item_id = value;
      if (name === "placement" && typeof value === "string" && PLACEMENT.test(value)) clean.placement = value;
      if (name === "quantity" && value === Math.floor(value) && value >= 1 && value <= 1000) clean.quantity = value;
      if (name === "query" && typeof value === "string" && value) clean.query = value.slice(0, 200);
    }
    if (fields[0] === "item_id" && !clean.item_id) return null;
    if (fields[0] === "query" && !clean.query) return null;
    return clean;
  }

  function track(event) {
    if (!state.consent) return; // no event before consent, not even a beacon
    var clean = cleanEvent(event);
    if (!clean) return warn("event dropped", event);
    state.pending.push(clean);
    if (state.pending.length > MAX_BATCH) state.pending.shift();
    flushSoon();
  }

  // Events of one tick go out as one batch. A microtask runs before a click's navigation unloads the
  // page, so navigation is never held up and the event still leaves.
  function flushSoon() {
    if (state.flushQueued) return;
    state.flushQueued = true;
    Promise.resolve().then(flush);
  }

  function flush() {
    state.flushQueued = false;
    // without a session id yet (the first page call is under way) the events wait for its answer
    if (!state.consent || !state.sessionId || !state.pending.length) return;
    var body = { session_id: state.sessionId, events: state.pending.splice(0, MAX_BATCH) };
    var token = clip(config().customerToken, 512);
    if (token) body.customer_token = token;
    renewSession();
    sendEvents(body);
  }

  // ---- the page call ------------------------------------------------------------------------------

  function findSlots() {
    var found = document.querySelectorAll("[data-pz-slot]");
    var slots = [];
    for (var i = 0; i < found.length; i++) slots.push(found[i]);
    return slots;
  }

  // Nothing shows before data arrives: every placeholder is hidden and emptied first.
  function resetSlot(slot) {
    slot.hidden = true;
    while (slot.firstChild) slot.removeChild(slot.firstChild);
  }

  function slotLimit(slot) {
    var limit = parseInt(slot.getAttribute("data-pz-limit"), 10);
    return limit > 0 ? limit : 0;
  }

  function requestedPlacements(slots) {
    var configured = config().placements;
    var names = [];
    if (configured && configured.length) {
      for (var i = 0; i < configured.length; i++) {
        if (PLACEMENT.test(configured[i]) && names.indexOf(configured[i]) < 0) names.push(configured[i]);
      }
    } else {
      for (var j = 0; j < slots.length; j++) {
        var name = slots[j].getAttribute("data-pz-slot");
        if (KNOWN_PLACEMENTS.indexOf(name) >= 0 && names.indexOf(name) < 0) names.push(name);
      }
    }
    return names.length ? names.slice(0, 10) : undefined;
  }

  function requestedLimit(slots) {
    var limit = Number(config().limit);
    if (!(limit >= 1)) for (var i = 0; i < slots.length; i++) limit = Math.max(limit || 0, slotLimit(slots[i]));
    return limit >= 1 ? Math.min(Math.floor(limit), 50) : undefined;
  }

  // Only the fields /v1/page knows, so a shop's extra keys cannot get the whole call refused.
  function pageInfo(page) {
    var info = { type: String(page.type || "other") };
    if (typeof page.category === "string") info.category = page.category;
    if (typeof page.item_id === "string") info.item_id = page.item_id;
    if (typeof page.query === "string") info.query = page.query.slice(0, 200);
    if (page.cart && page.cart.length) {
      info.cart = [];
      for (var i = 0; i < page.cart.length && i < 200; i++) {
        var line = page.cart[i] || {};
        var clean = { item_id: String(line.item_id), quantity: line.quantity || 1 };
        if (typeof line.price === "number") clean.price = line.price;
        info.cart.push(clean);
      }
    }
    if (typeof page.cart_discount === "number" && page.cart_discount > 0) info.cart_discount = page.cart_discount;
    return info;
  }

  function pageContext(returning) {
    var here = window.location.href.split("#")[0]; // a fragment may carry tokens, never needed here
    var referrer = state.lastUrl === null ? document.referrer : state.lastUrl;
    var country = config().country;
    var context = {
      referrer: clip(referrer, 2000),
      utm_source: clip(new URLSearchParams(window.location.search).get("utm_source"), 100),
      landing_url: clip(here, 2000),
      locale: clip(navigator.language, 35)
    };
    if (typeof country === "string" && /^[A-Za-z]{2}$/.test(country)) context.country = country;
    if (returning) context.returning = true;
    state.lastUrl = here;
    return context;
  }

  function pageRequest(page, slots) {
    var cfg = config();
    var body = { page: pageInfo(page), consent: state.consent };
    var returning = false;
    if (state.consent) {
      var session = sessionAtPageStart();
      returning = session.returning;
      if (session.id) body.session_id = session.id;
      var token = clip(cfg.customerToken, 512);
      if (token) body.customer_token = token;
    }
    body.context = pageContext(returning);
    var placements = requestedPlacements(slots);
    if (placements) body.placements = placements;
    var limit = requestedLimit(slots);
    if (limit) body.limit = limit;
    if (cfg.exclude && cfg.exclude.length) body.exclude = cfg.exclude.slice(0, 100);
    return body;
  }

  function markReady(ready, detail) {
    var root = document.documentElement;
    if (!ready) return root.removeAttribute("data-pz-ready");
    root.setAttribute("data-pz-ready", "1"); // tests and shops may wait for it (dataset.pzReady === "1")
    try {
      document.dispatchEvent(new CustomEvent("pz:ready", { detail: detail }));
    } catch (error) {
      warn("pz:ready listener failed", error);
    }
  }

  // One POST /v1/page per page view; a network or server error leaves the placeholders hidden.
  function runPage(page) {
    if (!page || typeof page !== "object") return warn("page needs an object like {type: 'home'}");
    var run = ++state.pageRuns;
    whenDomReady(function () {
      if (run !== state.pageRuns) return;
      markReady(false);
      var slots = findSlots();
      slots.forEach(resetSlot);
      var answered = null;
      var request = window.fetch
        ? postJson("/v1/page", pageRequest(page, slots)).then(function (response) {
            if (!response.ok) throw new Error("POST /v1/page answered " + response.status);
            return response.json();
          })
        : Promise.reject(new Error("this browser has no fetch"));
      request
        .then(function (answer) {
          if (run !== state.pageRuns) return;
          rememberSession(answer);
          render(slots, answer);
          answered = answer;
        })
        ["catch"](function (error) {
          warn("page not personalized", error);
        })
        .then(function () {
          if (run === state.pageRuns) markReady(true, { ok: answered !== null, answer: answered });
        });
    });
  }

  function rememberSession(answer) {
    var id = answer && answer.session_id;
    if (typeof id !== "string" || !SESSION_ID.test(id)) return;
    state.sessionId = id; // kept in memory only; the cookie is written with consent alone
    renewSession();
    flushSoon(); // events pushed while the call was under way
  }

  function whenDomReady(callback) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
    else callback();
  }

  // ---- rendering (createElement + textContent only; classes, never inline styles) ------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var formats = {};
  function formatPrice(value, currency) {
    if (typeof value !== "number" || !isFinite(value)) return null;
    var locale = config().locale || document.documentElement.lang || undefined;
    var key = locale + "|" + currency;
    try {
      if (!formats[key]) {
        formats[key] = currency
          ? new Intl.NumberFormat(locale, { style: "currency", currency: currency })
          : new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      }
      return formats[key].format(value);
    } catch (error) {
      return value.toFixed(2);
    }
  }

  // Clicks on a rendered recommendation carry its placement (for attribution); the listener never
  // cancels the click, so the navigation goes ahead.
  function trackClicks(link, itemId, placement) {
    function onClick(event) {
      if (event.type === "click" || event.button === 1) track({ type: "click", item_id: itemId, placement: placement });
    }
    link.addEventListener("click", onClick);
    link.addEventListener("auxclick", onClick);
  }

  function recommendationList(items, placement, limit, currency) {
    if (!items || !items.length) return null;
    var list = element("ul", "pz-recs");
    for (var i = 0; i < items.length && (!limit || list.childNodes.length < limit); i++) {
      var item = items[i];
      if (!item || typeof item.item_id !== "string") continue;
      var li = element("li", "pz-item");
      li.setAttribute("data-pz-item", item.item_id);
      var link = element("a", "pz-link");
      var href = safeUrl(item.url);
      if (href) {
        link.href = href;
        trackClicks(link, item.item_id, placement);
      }
      var src = safeUrl(item.image);
      if (src) {
        var img = element("img", "pz-img");
        img.src = src;
        img.alt = String(item.title || "");
        img.loading = "lazy";
        link.appendChild(img);
      }
      link.appendChild(element("span", "pz-title", item.title || ""));
      var price = formatPrice(item.price, currency);
      if (price !== null) link.appendChild(element("span", "pz-price", price));
      li.appendChild(link);
      list.appendChild(li);
    }
    return list.childNodes.length ? list : null;
  }

  function bannerNode(banner) {
    var box = element("div", "pz-banner");
    box.setAttribute("data-pz-banner", String(banner.id));
    if (banner.arm) box.setAttribute("data-pz-arm", String(banner.arm));
    var image = safeUrl(banner.image);
    if (image) {
      var img = element("img", "pz-banner-img");
      img.src = image;
      img.alt = "";
      box.appendChild(img);
    }
    box.appendChild(element("strong", "pz-banner-title", banner.title || ""));
    if (banner.text) box.appendChild(element("p", "pz-banner-text", banner.text));
    var href = safeUrl(banner.link);
    if (href) {
      var link = element("a", "pz-banner-link", config().linkText || "Shop now");
      link.href = href;
      box.appendChild(link);
    }
    if (banner.coupon_code) box.appendChild(element("code", "pz-coupon", banner.coupon_code));
    return box;
  }

  function nudgeNode(nudge, currency) {
    var box = element("div", "pz-nudge");
    box.setAttribute("data-pz-nudge", String(nudge.kind));
    if (nudge.text) box.appendChild(element("p", "pz-nudge-text", nudge.text));
    var list = recommendationList(nudge.items, "nudge", 0, currency || nudge.currency);
    if (list) box.appendChild(list);
    return box.childNodes.length ? box : null;
  }

  // What one placeholder shows: the placement's items, the banners of its slot, or the nudges.
  function contentFor(slot, answer) {
    var name = slot.getAttribute("data-pz-slot") || "";
    var currency = config().currency;
    var nodes = [];
    var i;
    if (name.indexOf("banner:") === 0) {
      var banners = answer.banners || [];
      for (i = 0; i < banners.length; i++) {
        if (banners[i] && banners[i].slot === name.slice(7)) nodes.push(bannerNode(banners[i]));
      }
    } else if (name === "nudge") {
      var nudges = answer.nudges || [];
      for (i = 0; i < nudges.length; i++) nodes.push(nudges[i] && nudgeNode(nudges[i], currency));
    } else {
      var recommendations = answer.recommendations || {};
      var items = recommendations.hasOwnProperty(name) ? recommendations[name] : null;
      nodes.push(recommendationList(items, name, slotLimit(slot), currency));
    }
    return nodes.filter(Boolean);
  }

  function render(slots, answer) {
    for (var i = 0; i < slots.length; i++) {
      try {
        var nodes = contentFor(slots[i], answer || {});
        for (var j = 0; j < nodes.length; j++) slots[i].appendChild(nodes[j]);
        slots[i].hidden = nodes.length === 0; // an empty slot stays hidden
      } catch (error) {
        resetSlot(slots[i]);
        warn("slot not rendered", error);
      }
    }
  }

  // ---- commands -----------------------------------------------------------------------------------

  function execute(command) {
    try {
      if (!command || typeof command.length !== "number") return warn("not a command", command);
      if (command[0] === "consent") setConsent(command[1]);
      else if (command[0] === "track") track(command[1]);
      else if (command[0] === "page") runPage(command[1]);
      else warn("unknown command", command[0]);
    } catch (error) {
      warn("command failed", error); // never throw into the page
    }
  }

  function start() {
    var queued = queue.slice();
    var pages = [];
    queue.length = 0;
    state.consent = config().consent === true || readCookie(CONSENT_COOKIE) === "1";
    // consent and tracking commands first, so this page's call already knows the visitor's choice
    for (var i = 0; i < queued.length; i++) {
      if (queued[i] && queued[i][0] === "page") pages.push(queued[i]);
      else execute(queued[i]);
    }
    queue.push = function () {
      for (var j = 0; j < arguments.length; j++) execute(arguments[j]);
      return 0;
    };
    queue.loaded = true;
    if (config().page) runPage(config().page);
    for (var k = 0; k < pages.length; k++) execute(pages[k]);
    if (!config().page && !pages.length) whenDomReady(markReady.bind(null, true, { ok: false, answer: null }));
    // events still waiting when the visitor leaves go out with the page
    window.addEventListener("pagehide", flush);
  }

  start();
})(window, document);
