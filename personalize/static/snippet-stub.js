/* personalize loader: inline after window.pzConfig, in <script nonce="..."> */
(function (w, d) {
  var q = (w.pz = w.pz || []);
  if (q.stub) return; // included twice: load the snippet once
  q.stub = 1;
  var me = d.currentScript;
  var nonce = me && (me.nonce || me.getAttribute("nonce"));
  var api = String((w.pzConfig && w.pzConfig.api) || "").replace(/\/+$/, "");
  var s = d.createElement("script");
  s.async = true;
  s.src = api + "/snippet.js";
  if (nonce) s.setAttribute("nonce", nonce); // CSP without 'self' for the API host
  (d.head || d.documentElement).appendChild(s);
})(window, document);
