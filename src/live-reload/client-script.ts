// What a watched page runs: the script tag injected into HTML files and listings, and the script it
// loads. The script listens to the event stream beside it (its URL resolved against the script's
// own): "reload" reloads the page; "css" swaps the stylesheets that changed, without a reload;
// a stream that comes back after it was lost (the server restarted) reloads too, since files may have
// changed meanwhile.

/** Everything live reload answers sits under this path; no file of the site is served there. */
export const RESERVED_PREFIX = "/.bunhttp/";
export const SCRIPT_PATH = "/.bunhttp/live-reload.js";
export const EVENTS_PATH = "/.bunhttp/live-reload";

/** Injected before the last </body> (or at the end): one small same-origin script, no inline code. */
export const SCRIPT_TAG = `<script src="${SCRIPT_PATH}"></script>`;

// Plain ES2017 for any browser; no globals but the one flag that keeps a second copy from running.
export const CLIENT_SCRIPT = `// bunhttp --watch: reloads this page when a file under the root changes.
(function () {
  "use strict";
  if (window.__bunhttpLiveReload) return;
  window.__bunhttpLiveReload = true;
  var script = document.currentScript;
  var base = script && script.src ? script.src : location.href;
  var source = new EventSource(new URL("live-reload", base).href);
  var lost = false;
  source.addEventListener("error", function () {
    lost = true;
  });
  source.addEventListener("open", function () {
    if (lost) location.reload();
  });
  source.addEventListener("reload", function () {
    location.reload();
  });
  source.addEventListener("css", function (event) {
    var paths = JSON.parse(event.data);
    var links = Array.prototype.slice.call(document.querySelectorAll('link[rel~="stylesheet" i][href]'));
    links = links.filter(function (link) {
      return new URL(link.href).origin === location.origin;
    });
    var changed = links.filter(function (link) {
      var path = new URL(link.href).pathname;
      try { path = decodeURIComponent(path); } catch (e) {}
      return paths.indexOf(path) >= 0;
    });
    // A stylesheet that imports the changed one is not named by it: then every one is fetched again.
    (changed.length > 0 ? changed : links).forEach(swap);
  });
  // The new sheet is put beside the old, which goes once the new one has loaded: no unstyled flash.
  function swap(link) {
    var url = new URL(link.href);
    url.searchParams.set("bunhttp-reload", String(Date.now()));
    var next = link.cloneNode(false);
    next.href = url.href;
    var done = function () {
      if (link.parentNode) link.parentNode.removeChild(link);
    };
    next.addEventListener("load", done);
    next.addEventListener("error", done);
    link.parentNode.insertBefore(next, link.nextSibling);
  }
})();
`;
