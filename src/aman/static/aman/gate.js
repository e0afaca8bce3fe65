/* The gate page: check-in and boarding by scan, online or offline.
 *
 * Online, each scan is sent to the server (`scan`), which applies it and answers. When the
 * network fails (an error, or no answer within cfg.timeout_ms), the page answers from the
 * leg's passenger list kept on the device (localStorage, per leg), records the scan in a
 * queue on the device (each with its own UUID) and marks the person as checked in or
 * boarded on the device, so a second scan of the same person says so. When the network
 * returns (the `online` event, or the periodic try) the queue is sent (`sync`): the server
 * applies each scan once (a resent scan keeps its first result) and says which conflict
 * with what happened meanwhile; those are listed until dismissed.
 *
 * No words of its own: every text comes translated from the page (cfg.strings).
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("gate-config").textContent);
  const S = cfg.strings;
  const LEG = cfg.leg.id;
  const PREFIX = "aman.gate.";
  const KEY = PREFIX + LEG + ".";
  const HOLDS_SEAT = ["offered", "confirmed", "checked_in", "boarded"];
  const $ = (id) => document.getElementById(id);
  // The seat given with the next check-in or boarding (optional; empty after it is used).
  const seatInput = $("gate-seat");

  // --- storage on the device --------------------------------------------------------------

  const memory = {};
  const store = {
    get(name, fallback) {
      try {
        const raw = window.localStorage.getItem(KEY + name);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (e) {
        return name in memory ? memory[name] : fallback;
      }
    },
    set(name, value) {
      memory[name] = value;
      try {
        window.localStorage.setItem(KEY + name, JSON.stringify(value));
        return true;
      } catch (e) {
        return false;
      }
    },
    clear() {
      try {
        for (const key of Object.keys(window.localStorage)) {
          if (key.startsWith(KEY)) window.localStorage.removeItem(key);
        }
      } catch (e) { /* nothing stored */ }
      for (const name of Object.keys(memory)) delete memory[name];
    },
    dropOtherLegs() {
      // Room for this leg's list: passenger lists of other legs go (never their queues).
      try {
        for (const key of Object.keys(window.localStorage)) {
          if (key.startsWith(PREFIX) && !key.startsWith(KEY) && key.endsWith(".manifest")) {
            window.localStorage.removeItem(key);
          }
        }
      } catch (e) { /* nothing stored */ }
    },
  };

  let manifest = store.get("manifest", null);
  let queue = store.get("queue", []);
  let conflicts = store.get("conflicts", []);
  let log = store.get("log", []);
  let reachable = navigator.onLine;
  let syncing = false;
  let lastText = "";
  let lastRefresh = 0;
  let index = null;

  // --- small helpers ----------------------------------------------------------------------

  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)[sd]/g, (m, k) => (params && k in params ? params[k] : ""));
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const b = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // This device's name (kept across legs and "Clear this device": it holds nothing
  // personal), sent before each scan's own id so that the server's list of conflicts says
  // which device recorded a scan. Shown at the top of the page.
  function deviceName() {
    const key = PREFIX + "device";
    try {
      let name = window.localStorage.getItem(key);
      if (!name || !/^D-[A-Z0-9]{6}$/.test(name)) {
        name = "D-" + uuid().replace(/-/g, "").slice(0, 6).toUpperCase();
        window.localStorage.setItem(key, name);
      }
      return name;
    } catch (e) {
      return "";
    }
  }
  const DEVICE = deviceName();

  function scanId() {
    return DEVICE ? `${DEVICE}:${uuid()}` : uuid();
  }

  // SHA-256 (FIPS 180-4), for pages served without TLS where crypto.subtle is missing.
  function sha256Fallback(text) {
    const K = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    const bytes = Array.from(new TextEncoder().encode(text));
    const bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    for (let i = 7; i >= 0; i--) bytes.push(i >= 4 ? 0 : (bitLength >>> (i * 8)) & 0xff);
    const H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    const W = new Array(64);
    for (let off = 0; off < bytes.length; off += 64) {
      for (let i = 0; i < 16; i++) {
        const j = off + i * 4;
        W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
      }
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
        const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    return H.map((x) => (x >>> 0).toString(16).padStart(8, "0")).join("");
  }

  async function sha256(text) {
    if (window.crypto && window.crypto.subtle) {
      const digest = await window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
      return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, "0")).join("");
    }
    return sha256Fallback(text);
  }

  // --- the passenger list on the device --------------------------------------------------

  function buildIndex() {
    index = { byId: new Map(), byPass: new Map(), byDoc: new Map(), byRef: new Map() };
    if (!manifest) return;
    for (const b of manifest.bookings) {
      index.byId.set(b.id, b);
      index.byPass.set(b.pass, b);
      for (const d of b.docs || []) {
        const held = index.byDoc.get(d);
        if (!held || !HOLDS_SEAT.includes(held.status)) index.byDoc.set(d, b);
      }
      const ref = b.ref.replace(/[^A-Z0-9]/g, "");
      const held = index.byRef.get(ref);
      if (!held || !HOLDS_SEAT.includes(held.status)) index.byRef.set(ref, b);
    }
  }

  function saveManifest() {
    if (!manifest) return;
    if (!store.set("manifest", manifest)) {
      store.dropOtherLegs();
      store.set("manifest", manifest);
    }
  }

  function applyLocally(scan, entry) {
    // What a queued scan did on the device (until the server's list says so itself).
    if (!entry || scan.action === "lookup") return;
    const now = scan.at;
    if (scan.action === "check_in" && ["offered", "confirmed"].includes(entry.status)) {
      entry.status = "checked_in";
      entry.checked_in_at = now;
    } else if (scan.action === "board" && ["offered", "confirmed", "checked_in"].includes(entry.status)) {
      entry.status = "boarded";
      entry.checked_in_at = entry.checked_in_at || now;
      entry.boarded_at = now;
    }
    if (scan.undertaking_signed_by && entry.undertaking) entry.undertaking.signed = true;
    if (scan.seat) entry.seat = scan.seat;
  }

  function reapplyQueue() {
    if (!manifest) return;
    for (const scan of queue) applyLocally(scan, index.byId.get(scan.booking));
  }

  // --- reading what was scanned ----------------------------------------------------------

  const MRZ_SHAPES = [[2, 44], [3, 30], [2, 36]];

  function mrzLines(text) {
    let lines = text.toUpperCase().split(/\r\n|\r|\n/).map((l) => l.replace(/\s+/g, "")).filter(Boolean);
    if (lines.length === 1) {
      for (const [count, length] of MRZ_SHAPES) {
        if (lines[0].length === count * length) {
          const joined = lines[0];
          lines = [];
          for (let i = 0; i < count; i++) lines.push(joined.slice(i * length, (i + 1) * length));
        }
      }
    }
    return lines;
  }

  function looksLikeMrz(text) {
    return text.includes("<") && text.replace(/\s/g, "").length >= 60;
  }

  function checkDigit(data) {
    const weights = [7, 3, 1];
    let sum = 0;
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      let v = 0;
      if (c >= "0" && c <= "9") v = c.charCodeAt(0) - 48;
      else if (c >= "A" && c <= "Z") v = c.charCodeAt(0) - 55;
      sum += v * weights[i % 3];
    }
    return String(sum % 10);
  }

  // The document number and expiry of a TD3, TD2 or TD1 zone, with its check digits checked
  // (ICAO 9303 parts 3-6), or {error: field}.
  function parseMrz(text) {
    const lines = mrzLines(text);
    const shape = MRZ_SHAPES.find(([n, len]) => lines.length === n && lines.every((l) => l.length === len));
    if (!shape || !lines.every((l) => /^[A-Z0-9<]+$/.test(l))) return { error: "format" };
    let number, check, expiry, expiryCheck, composite, compositeCheck;
    if (shape[1] === 30) {
      const [l1, l2] = lines;
      number = l1.slice(5, 14); check = l1[14];
      if (check === "<") {
        const cont = l1.slice(15, 30).split("<")[0];
        if (cont.length >= 2) { number += cont.slice(0, -1); check = cont.slice(-1); }
      }
      expiry = l2.slice(8, 14); expiryCheck = l2[14];
      composite = l1.slice(5, 30) + l2.slice(0, 7) + l2.slice(8, 15) + l2.slice(18, 29);
      compositeCheck = l2[29];
    } else {
      const l2 = lines[1];
      const w = l2.length;
      number = l2.slice(0, 9); check = l2[9];
      expiry = l2.slice(21, 27); expiryCheck = l2[27];
      composite = l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, w - 1);
      compositeCheck = l2[w - 1];
    }
    if (checkDigit(number) !== check) return { error: "document_number" };
    if (checkDigit(expiry) !== expiryCheck) return { error: "expiry_date" };
    if (checkDigit(composite) !== compositeCheck) return { error: "composite" };
    const expiryDay = /^\d{6}$/.test(expiry) ? `20${expiry.slice(0, 2)}-${expiry.slice(2, 4)}-${expiry.slice(4)}` : null;
    return { number: number.replace(/</g, ""), expiry: expiryDay };
  }

  function kindOf(text) {
    if (/^AMAN1:/i.test(text.trim())) return "qr";
    if (looksLikeMrz(text)) return "mrz";
    return "manual";
  }

  async function resolveLocally(text) {
    const kind = kindOf(text);
    const res = { kind, entry: null, verdict: "unknown", params: {}, scannedExpiry: null };
    if (!manifest) return res;
    if (kind === "qr") {
      const parts = text.trim().toUpperCase().split(":");
      if (parts.length === 4 && /^\d+$/.test(parts[2]) && Number(parts[2]) !== LEG) {
        res.verdict = "other_leg_offline";
        res.params = { leg: parts[2] };
        return res;
      }
      res.entry = index.byPass.get(await sha256(text.trim().toUpperCase())) || null;
      if (!res.entry) res.verdict = "invalid_pass";
    } else if (kind === "mrz") {
      const zone = parseMrz(text);
      if (zone.error) {
        res.verdict = "unreadable_offline";
        res.params = { field: zone.error === "document_number" ? S.document_number : zone.error.replace(/_/g, " ") };
        return res;
      }
      res.entry = index.byDoc.get(await sha256(`${manifest.salt}:${zone.number}`)) || null;
      res.scannedExpiry = zone.expiry;
    } else {
      res.entry = index.byRef.get(text.toUpperCase().replace(/[^A-Z0-9]/g, "")) || null;
      if (!res.entry) res.verdict = "unknown";
    }
    return res;
  }

  function localVerdict(res) {
    const e = res.entry;
    const day = manifest.leg.departure_day;
    if (!HOLDS_SEAT.includes(e.status)) {
      res.params.status = (S.statuses[e.status] || e.status).toLowerCase();
      return "closed";
    }
    if (e.status === "boarded") return "boarded";
    if (manifest.leg.closed) {
      res.params.status = manifest.leg.status_label.toLowerCase();
      return "leg_closed";
    }
    if (e.permit === "refused") return "permit_refused";
    if (res.scannedExpiry && res.scannedExpiry < day) return "document_expired";
    if (e.document.state === "expired") return "document_expired";
    if (e.document.state === "missing" && res.kind !== "mrz") return "document_missing";
    return e.status === "checked_in" ? "checked_in" : "ok";
  }

  function localAnswer(res) {
    const answer = { kind: res.kind, booking: null, household: [], warnings: [] };
    let verdict = res.verdict;
    if (res.entry) verdict = localVerdict(res);
    answer.verdict = verdict;
    if (verdict === "other_leg_offline") {
      answer.level = "stop";
      answer.message = fmt(S.not_valid_here, res.params);
    } else if (verdict === "unreadable_offline") {
      answer.level = "stop";
      answer.message = fmt(S.unreadable, res.params);
    } else {
      const v = S.verdicts[verdict];
      answer.level = v.level;
      answer.message = fmt(v.message, res.params);
    }
    if (res.entry) {
      answer.booking = res.entry;
      answer.household = (res.entry.members || []).map((id) => index.byId.get(id)).filter(Boolean);
    }
    return answer;
  }

  // --- talking to the server -------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function request(url, options, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const res = await fetch(url, { credentials: "same-origin", signal: controller.signal, ...options });
      const type = res.headers.get("Content-Type") || "";
      if (res.status >= 500) throw new HttpError(res.status, res.statusText);
      if (res.redirected || !type.includes("json")) {
        // Signed out (the session ended) or refused before the view: the scan stays here.
        const err = new HttpError(401, S.signed_out);
        err.auth = true;
        throw err;
      }
      const data = await res.json();
      if (!res.ok) throw new HttpError(res.status, data.message || res.statusText);
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  function csrfToken() {
    // The cookie's token: signing in again (in another tab) rotates it, and the token the
    // page was served with would then be refused.
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : cfg.csrf;
  }

  function post(url, body, timeoutMs) {
    return request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }, timeoutMs);
  }

  function isNetworkFailure(err) {
    // No answer (offline, timeout) or a server/proxy that cannot answer.
    if (err && err.auth) flash(S.signed_out);
    return !(err instanceof HttpError) || err.status >= 500 || Boolean(err.auth);
  }

  function setReachable(value) {
    reachable = value;
    renderStatus();
  }

  async function refreshManifest() {
    if (!navigator.onLine) return;
    try {
      const data = await request(cfg.urls.manifest, { method: "GET" }, 15000);
      manifest = data;
      lastRefresh = Date.now();
      buildIndex();
      reapplyQueue();
      saveManifest();
      setReachable(true);
    } catch (err) {
      if (isNetworkFailure(err)) setReachable(false);
    }
    renderStatus();
  }

  let serverFailures = 0;

  async function sync() {
    if (syncing || !queue.length || !navigator.onLine) return;
    syncing = true;
    const batch = queue.slice(0, 200);
    try {
      const data = await post(cfg.urls.sync, { scans: batch }, 15000);
      setReachable(true);
      const sent = new Map(batch.map((s) => [s.id, s]));
      const done = new Set();
      for (const r of data.results) {
        const scan = sent.get(r.id);
        if (!scan) continue;
        done.add(r.id);
        const entry = r.booking && index ? index.byId.get(r.booking) : null;
        if (entry && r.status) entry.status = r.status;
        if (["conflict", "refused", "unknown"].includes(r.result) && scan.action !== "lookup") {
          conflicts.push({
            id: r.id,
            at: scan.at,
            action: scan.action,
            who: scan.who || "",
            result: r.result,
            message: r.message,
          });
        }
        markLog(r.id, r.result, r.message);
      }
      queue = queue.filter((s) => !done.has(s.id));
      store.set("queue", queue);
      store.set("conflicts", conflicts);
      saveManifest();
      renderConflicts();
      if (queue.length) setTimeout(sync, 0);
      else refreshManifest();
      serverFailures = 0;
    } catch (err) {
      if (err instanceof HttpError && err.status >= 500 && !err.auth) {
        // The server answers, but fails on this batch: after three tries the first scan
        // is set aside as a conflict for the officer, so that the rest can go through.
        serverFailures += 1;
        if (serverFailures >= 3 && queue.length) {
          const stuck = queue.shift();
          conflicts.push({
            id: stuck.id,
            at: stuck.at,
            action: stuck.action,
            who: stuck.who || "",
            result: "conflict",
            message: fmt(S.server_error, { message: err.message }),
          });
          markLog(stuck.id, "conflict", err.message);
          store.set("queue", queue);
          store.set("conflicts", conflicts);
          renderConflicts();
          serverFailures = 0;
        }
      }
      if (isNetworkFailure(err)) setReachable(false);
      else flash(fmt(S.server_error, { message: err.message }));
    } finally {
      syncing = false;
      renderStatus();
    }
  }

  // --- a scan ----------------------------------------------------------------------------

  function mode() {
    return document.querySelector("input[name=mode]:checked").value;
  }

  function who(entry) {
    return entry ? `${entry.surname} ${entry.given_names} (${entry.ref})` : "";
  }

  async function submitScan(text, signedBy) {
    text = text.trim();
    if (!text) return;
    lastText = text;
    const scan = { id: scanId(), text, action: mode(), at: new Date().toISOString(), offline: false };
    if (signedBy) scan.undertaking_signed_by = signedBy;
    const seat = seatInput ? seatInput.value.trim().toUpperCase() : "";
    if (seat && scan.action !== "lookup") scan.seat = seat;
    if (navigator.onLine && reachable !== false) {
      try {
        const data = await post(cfg.urls.scan, scan, cfg.timeout_ms);
        setReachable(true);
        if (data.result.result === "applied" && seatInput) seatInput.value = "";
        const entry = data.answer.booking && index ? index.byId.get(data.answer.booking.id) : null;
        if (entry) Object.assign(entry, data.answer.booking);
        saveManifest();
        show(data.answer, data.result);
        addLog(scan, data.answer.booking, data.result.result, data.result.message || data.answer.message, false);
        if (queue.length) sync();
        return;
      } catch (err) {
        if (!isNetworkFailure(err)) {
          show({ level: "stop", message: fmt(S.server_error, { message: err.message }), booking: null, household: [], warnings: [] });
          return;
        }
        setReachable(false);
      }
    }
    await offlineScan(scan);
  }

  async function offlineScan(scan) {
    const res = await resolveLocally(scan.text);
    const answer = localAnswer(res);
    const entry = res.entry;
    let result = "unknown";
    let message = answer.message;
    const startable = entry && ["ok", "checked_in", "document_expired", "document_missing"].includes(answer.verdict);
    const needsUndertaking = entry && entry.undertaking && !entry.undertaking.signed &&
      ["offered", "confirmed"].includes(entry.status) && !scan.undertaking_signed_by;
    if (startable && needsUndertaking) {
      result = "refused";
      message = S.undertaking_needed;
      scan.action = "lookup";
    } else if (startable && !(scan.action === "check_in" && entry.status === "checked_in")) {
      applyLocally(scan, entry);
      if (seatInput) seatInput.value = "";
      result = "applied";
      message = scan.action === "board" ? S.boarded : S.checked_in;
      answer.booking = entry;
      answer.level = answer.level === "warn" ? "warn" : "ok";
    } else {
      if (entry && ["boarded", "checked_in"].includes(answer.verdict)) {
        result = "already";
        message = fmt(S.already, { status: (S.statuses[entry.status] || "").toLowerCase() });
      }
      scan.action = "lookup";
    }
    // Kept on the device until the server has it: the booking the device found, not the
    // passport zone (no document number is stored); a pass code or reference code as read.
    const queued = { id: scan.id, action: scan.action, at: scan.at, offline: true, kind: res.kind };
    if (entry) queued.booking = entry.id;
    if (res.kind !== "mrz" || !entry) queued.text = res.kind === "mrz" ? "" : scan.text;
    if (scan.undertaking_signed_by) queued.undertaking_signed_by = scan.undertaking_signed_by;
    if (scan.seat && result === "applied") queued.seat = scan.seat;
    queued.who = entry ? entry.ref : "";
    queue.push(queued);
    store.set("queue", queue);
    saveManifest();
    show(answer, { result, message }, true);
    addLog(scan, entry, result, message, true);
    renderStatus();
  }

  // --- showing ---------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function row(label, value) {
    return el("div", { class: "row g-1" }, el("dt", { class: "col-4 col-md-3" }, label), el("dd", { class: "col-8 col-md-9 mb-1" }, value));
  }

  function show(answer, result, offline) {
    const panel = $("gate-answer");
    const applied = result && result.result === "applied" && result.message;
    let level = answer.level;
    if (result && ["conflict", "refused", "unknown"].includes(result.result)) level = "stop";
    if (result && result.result === "already") level = "info";
    if (applied) level = answer.level === "warn" ? "warn" : "ok";
    panel.dataset.level = level;
    panel.dataset.verdict = answer.verdict || "";
    panel.dataset.result = (result && result.result) || "";
    // After a check-in or boarding: what was done, and what still needs a look.
    $("gate-verdict").textContent = applied
      ? `${result.message} ${answer.level === "warn" ? answer.message : ""}`.trim()
      : (result && result.message) || answer.message;
    const details = $("gate-details");
    details.replaceChildren();
    if (offline) details.append(el("p", { class: "small mb-1" }, S.recorded_offline));
    const b = answer.booking;
    if (b) {
      details.append(el("p", { class: "gate-name mb-1", id: "gate-name" }, `${b.surname} ${b.given_names}`));
      const dl = el("dl", { class: "mb-2" });
      dl.append(row(S.reference, b.ref));
      dl.append(row(S.born, [b.birth_date || "—", b.sex].filter(Boolean).join(" · ")));
      dl.append(row(S.seat, `${b.seat || "—"} · ${S.statuses[b.status] || b.status}`));
      dl.append(row(S.priority, b.priority_text));
      const doc = S.document_states[b.document.state] + (b.document.expiry ? `, ${fmt(S.expires, { day: b.document.expiry })}` : "");
      dl.append(row(S.document, doc));
      if (b.permit) dl.append(row("", S.permits[b.permit] || b.permit));
      if (b.vulnerable && b.vulnerable.length) dl.append(row(S.warnings, b.vulnerable.map((f) => S.needs[f]).join(", ")));
      const members = answer.household || [];
      dl.append(row(S.household, members.length
        ? el("ul", { class: "list-unstyled mb-0", id: "gate-household" }, ...members.map((m) =>
          el("li", {}, `${m.surname} ${m.given_names} (${m.ref}) — ${S.statuses[m.status] || m.status}`)))
        : S.alone));
      dl.append(row(S.cases, (b.cases || []).length ? b.cases.join(", ") : "—"));
      details.append(dl);
      if (answer.warnings && answer.warnings.length) {
        details.append(el("ul", { class: "mb-2", id: "gate-warnings" }, ...answer.warnings.map((w) => el("li", {}, w))));
      }
      const u = b.undertaking;
      if (u && !u.signed && ["offered", "confirmed"].includes(b.status)) {
        const input = el("input", { class: "form-control", id: "gate-undertaking", autocomplete: "off" });
        const label = el("label", { class: "form-label", for: "gate-undertaking" }, fmt(S.undertaking, u));
        const button = el("button", { class: "btn btn-warning mt-1", type: "button", id: "gate-undertaking-submit" }, S.undertaking_submit);
        button.addEventListener("click", () => {
          if (input.value.trim()) submitScan(lastText, input.value.trim());
        });
        details.append(el("div", { class: "mt-2" }, label, input, button));
      } else if (u && u.signed) {
        const print = el("a", { href: cfg.urls.undertaking.replace("{id}", b.id), target: "_blank", rel: "noopener", id: "gate-undertaking-pdf" }, S.undertaking_print);
        details.append(el("p", { class: "small mb-0" }, S.undertaking_signed, " ", print));
      }
    }
  }

  function flash(message) {
    $("gate-manifest-info").textContent = message;
  }

  function addLog(scan, entry, result, message, offline) {
    log.unshift({
      id: scan.id,
      at: scan.at,
      action: scan.action,
      who: entry ? who(entry) : "",
      result,
      message,
      offline,
      synced: !offline,
    });
    log = log.slice(0, 100);
    store.set("log", log);
    renderLog();
  }

  function markLog(id, result, message) {
    const item = log.find((l) => l.id === id);
    if (item) {
      item.synced = true;
      item.server = result;
      item.serverMessage = message;
    }
    store.set("log", log);
    renderLog();
  }

  function renderLog() {
    const list = $("gate-log");
    list.replaceChildren(...log.map((l) => {
      const colour = { applied: "success", already: "info", conflict: "danger", refused: "danger", unknown: "danger" }[l.server || l.result] || "secondary";
      const time = new Date(l.at).toLocaleTimeString();
      return el("li", { class: `list-group-item list-group-item-${colour}`, "data-id": l.id, "data-result": l.server || l.result },
        `${time} · ${S["action_" + l.action] || ""} · ${l.who} · ${l.serverMessage || l.message}`,
        l.offline ? el("span", { class: "badge text-bg-secondary ms-1" }, S.offline_tag) : null,
        l.offline && !l.synced ? el("span", { class: "badge text-bg-warning ms-1" }, "…") : null);
    }));
  }

  function renderConflicts() {
    const box = $("gate-conflicts-box");
    const list = $("gate-conflicts");
    box.hidden = !conflicts.length;
    list.replaceChildren(...conflicts.map((c, i) => {
      const button = el("button", { type: "button", class: "btn btn-sm btn-outline-secondary ms-2" }, S.dismiss);
      button.addEventListener("click", () => {
        conflicts.splice(i, 1);
        store.set("conflicts", conflicts);
        renderConflicts();
      });
      return el("li", { class: "list-group-item list-group-item-danger", "data-id": c.id },
        `${new Date(c.at).toLocaleTimeString()} · ${S["action_" + c.action] || ""} · ${c.who} · ${c.message}`, button);
    }));
  }

  const deviceBadge = $("gate-device");
  if (deviceBadge && DEVICE) {
    deviceBadge.textContent = fmt(S.device, { name: DEVICE });
    deviceBadge.hidden = false;
  }

  function renderStatus() {
    const online = navigator.onLine && reachable !== false;
    const badge = $("gate-online");
    badge.textContent = online ? S.online : S.offline;
    badge.className = `badge ${online ? "text-bg-success" : "text-bg-danger"}`;
    badge.dataset.online = online ? "1" : "0";
    const q = $("gate-queue");
    q.textContent = queue.length ? fmt(S.waiting, { n: queue.length }) : S.none_waiting;
    q.dataset.count = String(queue.length);
    $("gate-manifest-info").textContent = manifest
      ? fmt(S.manifest, { time: new Date(manifest.generated_at).toLocaleString(), n: manifest.bookings.length })
      : S.no_manifest;
  }

  // --- input: a USB scanner types like a keyboard ----------------------------------------

  const input = $("gate-input");
  const form = $("gate-form");

  function linesNeeded(first) {
    // The first line of a zone: a document code (P, I, A, C), fillers, 30/36/44 characters.
    if (!/^[PIAC][A-Z0-9<]+$/.test(first) || !first.includes("<")) return 0;
    if (first.length === 30) return 3;
    if (first.length === 36 || first.length === 44) return 2;
    return 0;
  }

  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    const lines = input.value.toUpperCase().split(/\r\n|\r|\n/).map((l) => l.replace(/\s+/g, "")).filter(Boolean);
    const needed = lines.length ? linesNeeded(lines[0]) : 0;
    if (needed && lines.length < needed) return; // the next line of the zone follows
    event.preventDefault();
    form.requestSubmit();
  });

  if (seatInput) seatInput.addEventListener("keydown", (event) => {
    // The seat typed: back to the scan (a scanner types where the focus is).
    if (event.key !== "Enter") return;
    event.preventDefault();
    input.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    await submitScan(text);
    input.focus();
  });

  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      store.set("mode", mode());
      input.focus();
    });
  }
  const savedMode = store.get("mode", null);
  if (savedMode && $("mode-" + savedMode)) $("mode-" + savedMode).checked = true;

  document.addEventListener("keydown", (event) => {
    // A scanner types wherever the focus is: bring it back to the input.
    if (document.activeElement === document.body && event.key.length === 1 && !event.ctrlKey && !event.metaKey) input.focus();
  });

  $("gate-clear").addEventListener("click", () => {
    if (!window.confirm(fmt(S.clear_confirm, { n: queue.length }))) return;
    store.clear();
    manifest = null;
    queue = [];
    conflicts = [];
    log = [];
    buildIndex();
    renderLog();
    renderConflicts();
    renderStatus();
    // The copy of the page kept for offline use goes too.
    if (window.caches) caches.keys().then((keys) => keys.filter((k) => k.startsWith("aman-gate-")).forEach((k) => caches.delete(k)));
    flash(S.cleared);
  });

  // --- camera ----------------------------------------------------------------------------
  // The browser's own QR reader (BarcodeDetector: Chrome on Android and macOS, Edge) where it
  // has one; elsewhere jsQR, shipped with the page (static/vendor/jsqr, never a CDN), reading
  // frames drawn to a canvas. jsQR is loaded when the page opens, so the service worker keeps
  // it for offline use like the page's other files.

  const cameraButton = $("gate-camera");
  const video = $("gate-video");
  let stream = null;
  let cameraTimer = null;
  let decode = null; // (video) => Promise<string | null>
  let decoding = false;
  let lastCamera = { value: "", at: 0 };

  async function browserDecoder() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (!formats.includes("qr_code")) return null;
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return async (source) => {
        const codes = await detector.detect(source);
        return codes.length ? codes[0].rawValue : null;
      };
    } catch (e) {
      return null;
    }
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error("cannot load " + src));
      document.head.append(script);
    });
  }

  async function jsqrDecoder() {
    if (!cfg.urls.jsqr) return null;
    try {
      if (typeof window.jsQR !== "function") await loadScript(cfg.urls.jsqr);
    } catch (e) {
      return null;
    }
    if (typeof window.jsQR !== "function") return null;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (source) => {
      const width = source.videoWidth;
      const height = source.videoHeight;
      if (!width || !height) return null;
      // At most 800 pixels across: enough for a pass held up to the camera, quick on a phone.
      const scale = Math.min(1, 800 / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return code && code.data ? code.data : null;
    };
  }

  function stopCamera() {
    if (cameraTimer) clearInterval(cameraTimer);
    cameraTimer = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    cameraButton.textContent = S.camera_start;
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      cameraButton.textContent = S.camera_stop;
      cameraTimer = setInterval(async () => {
        if (decoding || !decode) return; // a slow device: one frame at a time
        decoding = true;
        let value = null;
        try {
          value = await decode(video);
        } catch (e) {
          value = null;
        } finally {
          decoding = false;
        }
        if (!value) return;
        const now = Date.now();
        if (value === lastCamera.value && now - lastCamera.at < 4000) return;
        lastCamera = { value, at: now };
        submitScan(value);
      }, 250);
    } catch (err) {
      stopCamera();
      flash(fmt(S.camera_failed, { error: err.message || String(err) }));
    }
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    browserDecoder()
      .then(async (found) => (found ? ["browser", found] : ["jsqr", await jsqrDecoder()]))
      .then(([kind, found]) => {
        if (!found) return;
        decode = found;
        cameraButton.hidden = false;
        cameraButton.dataset.decoder = kind;
        cameraButton.addEventListener("click", () => (stream ? stopCamera() : startCamera()));
      })
      .catch(() => {});
  }

  // --- start -----------------------------------------------------------------------------

  window.addEventListener("online", () => {
    reachable = true;
    renderStatus();
    if (queue.length) sync();
    else refreshManifest();
  });
  window.addEventListener("offline", () => setReachable(false));
  setInterval(() => {
    // Queued scans are sent as soon as the server answers; the passenger list is
    // downloaded again every few minutes (each download is an audited export).
    if (!navigator.onLine) return;
    if (queue.length) sync();
    else if (!reachable || Date.now() - lastRefresh > cfg.refresh_every_ms) refreshManifest();
  }, cfg.sync_every_ms);

  // The page opens again without a network (a phone's browser may drop the tab): a service
  // worker keeps it and its files (secure pages only: HTTPS, or localhost).
  if ("serviceWorker" in navigator && cfg.urls.worker) {
    navigator.serviceWorker.register(cfg.urls.worker, { scope: "/transport/" }).catch(() => {});
  }

  buildIndex();
  reapplyQueue();
  renderLog();
  renderConflicts();
  renderStatus();
  refreshManifest().then(sync);
  input.focus();
})();
