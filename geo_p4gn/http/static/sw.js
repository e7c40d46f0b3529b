// The capture page's service worker: the page, its script and Leaflet come from this cache, so the page
// opens with no connection. The version below is a hash of the page's files, written in by the server: a
// new version of any file is a new worker and a fresh cache. The API is never cached here (entries wait
// in IndexedDB, see app.js); the kelurahan shapes and basemap tiles are kept once fetched.
const VERSION = "__SHELL_VERSION__";
const CACHE = "p4gn-capture-" + VERSION;
const SHELL = [
  "/capture/", "/capture/app.js", "/capture/app.css", "/capture/manifest.webmanifest", "/capture/icon.svg",
  "/capture/vendor/leaflet/leaflet.js", "/capture/vendor/leaflet/leaflet.css",
  "/capture/vendor/leaflet/images/marker-icon.png", "/capture/vendor/leaflet/images/marker-icon-2x.png",
  "/capture/vendor/leaflet/images/marker-shadow.png",
  "/capture/map/support.js", "/capture/map/support.css", "/capture/map/labels.json",
];
const KEEP = "p4gn-capture-data"; // the shapes (hashed names) and tiles: kept across versions

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("p4gn-capture-") && k !== CACHE && k !== KEEP).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

async function fromCache(cacheName, request, key) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(key || request, { ignoreSearch: !!key });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok || response.type === "opaque") cache.put(key || request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin === self.location.origin) {
    if (url.pathname.startsWith("/api/")) return; // always the network
    if (req.mode === "navigate" && url.pathname.startsWith("/capture")) {
      event.respondWith(fromCache(CACHE, req, "/capture/"));
    } else if (url.pathname.startsWith("/capture/geo/")) {
      event.respondWith(fromCache(KEEP, req));
    } else if (url.pathname.startsWith("/capture/")) {
      event.respondWith(fromCache(CACHE, req));
    }
    return;
  }
  if (req.destination === "image") event.respondWith(fromCache(KEEP, req)); // basemap tiles, when configured
});
