/* Aman — the gate's service worker: the gate page opens again without a network.
 *
 * The page itself keeps the leg's passenger list and its queued scans in localStorage; this
 * worker keeps what is needed to show the page: the gate pages (network first, the last copy
 * when there is no network) and the files they load (cached as they are fetched). Nothing
 * personal is cached here: the page's HTML holds no passenger, and the passenger list and
 * scans (JSON, POST) are never cached. "Clear this device" on the page deletes this cache too.
 */
"use strict";

const CACHE = "aman-gate-v1";
const GATE_PAGE = /\/transport\/legs\/\d+\/gate\/$/;
const TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("aman-gate-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (err) => { clearTimeout(timer); reject(err); }
    );
  });
}

async function gatePage(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), TIMEOUT_MS);
    // Only a real page is kept: not a redirect to the sign-in page, not an error.
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw err;
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), TIMEOUT_MS);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && GATE_PAGE.test(url.pathname)) {
    event.respondWith(gatePage(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(asset(request));
  }
});
