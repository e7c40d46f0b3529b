// geo_p4gn offline capture page. Entries wait in IndexedDB (each with the id made when its form opened)
// and are sent when there is a connection: on opening, when the connection returns, after each save and
// every 30 s. The server is idempotent by id (a retry stores nothing twice; other content under the same id
// is a conflict), so a send cut off half way is simply sent again. Everything shown that comes from the
// server or the user is set with textContent, never as HTML.
"use strict";
(function () {
  const T = {
    id: {
      title: "Catat intervensi P4GN", signin_title: "Masuk", user: "Nama pengguna", password: "Kata sandi",
      signin_hint: "Masuk sekali selagi ada sinyal; sesudahnya halaman ini bekerja tanpa koneksi.",
      signin: "Masuk", my_location: "Lokasi saya", choose_site: "Pilih kawasan…", date: "Tanggal",
      type: "Jenis intervensi", actor: "Unsur pentahelix", organisation: "Organisasi",
      participants: "Jumlah peserta", notes: "Catatan (tanpa nama, NIK atau nomor telepon)", save: "Simpan",
      send_now: "Kirim sekarang", export: "Simpan entri tertunda sebagai file", entries: "Entri di ponsel ini",
      signout: "Keluar", online: "Daring", offline: "Luring", pending: "Menunggu dikirim: {n}",
      no_point: "Ketuk peta, pakai lokasi saya, atau pilih kawasan.", outside: "Titik ini di luar DKI Jakarta (atau di laut): pilih titik lain.",
      in_kel: "Kelurahan {kel}, Kec. {kec}, {kota}", near_kel: "Dekat batas: Kelurahan {kel}, Kec. {kec}",
      accuracy: "akurasi ± {m} m", no_gps: "Lokasi tidak tersedia: {why}", saved: "Tersimpan di ponsel; dikirim saat ada sinyal.",
      st_pending: "menunggu", st_sent: "terkirim", st_refused: "ditolak", st_conflict: "konflik",
      st_sending: "mengirim", fix: "Perbaiki", drop: "Hapus", need_online: "Buka halaman ini sekali dengan koneksi untuk masuk.",
      signin_again: "Sesi kedaluwarsa atau dicabut: masuk lagi untuk mengirim (entri tetap tersimpan).",
      bad_signin: "Gagal masuk", required: "Lengkapi: {f}", signed_in: "Masuk sebagai {u}", none: "Belum ada entri.",
      exported: "{n} entri disimpan sebagai file: unggah di halaman Unggah data.",
    },
    en: {
      title: "Record a P4GN intervention", signin_title: "Sign in", user: "User name", password: "Password",
      signin_hint: "Sign in once while you have signal; after that this page works with no connection.",
      signin: "Sign in", my_location: "My location", choose_site: "Choose a site…", date: "Date",
      type: "Type of intervention", actor: "Penta-helix actor", organisation: "Organisation",
      participants: "Participants", notes: "Notes (no names, NIK or phone numbers)", save: "Save",
      send_now: "Send now", export: "Save pending entries as a file", entries: "Entries on this phone",
      signout: "Sign out", online: "Online", offline: "Offline", pending: "Waiting to send: {n}",
      no_point: "Tap the map, use my location, or choose a site.", outside: "This point is outside DKI Jakarta (or in the sea): choose another.",
      in_kel: "Kelurahan {kel}, Kec. {kec}, {kota}", near_kel: "Near a border: Kelurahan {kel}, Kec. {kec}",
      accuracy: "accuracy ± {m} m", no_gps: "Location not available: {why}", saved: "Saved on the phone; sent when there is signal.",
      st_pending: "waiting", st_sent: "sent", st_refused: "refused", st_conflict: "conflict",
      st_sending: "sending", fix: "Fix", drop: "Delete", need_online: "Open this page once with a connection to sign in.",
      signin_again: "Session expired or revoked: sign in again to send (entries stay saved).",
      bad_signin: "Sign-in failed", required: "Fill in: {f}", signed_in: "Signed in as {u}", none: "No entries yet.",
      exported: "{n} entries saved as a file: upload it on the Unggah data page.",
    },
  };
  const $ = (id) => document.getElementById(id);
  const state = { lang: "id", token: null, config: null, point: null, siteId: "", formId: null, kel: null,
                  sending: false, accuracy: null, editing: null };
  const tr = (key, vars) => (T[state.lang][key] || key).replace(/\{(\w+)\}/g, (_, k) => String(vars && vars[k] !== undefined ? vars[k] : ""));

  // -- IndexedDB -------------------------------------------------------------------------------------
  let dbp = null;
  function db() {
    if (!dbp) dbp = new Promise((resolve, reject) => {
      const req = indexedDB.open("geo_p4gn_capture", 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore("meta");
        req.result.createObjectStore("entries", { keyPath: "id" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return dbp;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      const s = t.objectStore(store);
      let out;
      const r = fn(s);
      if (r) r.onsuccess = () => { out = r.result; };
      t.oncomplete = () => resolve(out);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  const metaGet = (k) => tx("meta", "readonly", (s) => s.get(k));
  const metaSet = (k, v) => tx("meta", "readwrite", (s) => s.put(v, k));
  const metaDel = (k) => tx("meta", "readwrite", (s) => s.delete(k));
  const allEntries = () => tx("entries", "readonly", (s) => s.getAll());
  const putEntry = (e) => tx("entries", "readwrite", (s) => s.put(e));
  const delEntry = (id) => tx("entries", "readwrite", (s) => s.delete(id));

  // -- language --------------------------------------------------------------------------------------
  function applyLang() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = tr(el.dataset.t); });
    $("lang").textContent = state.lang === "id" ? "EN" : "ID";
    fillSelects();
    showPlace();
    refresh();
  }

  // -- sign-in ---------------------------------------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const f = ev.target;
    $("signin-msg").textContent = "";
    try {
      const r = await fetch("/api/capture/token", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: f.user.value, password: f.password.value }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || r.status);
      f.password.value = "";
      await useToken(body.token);
    } catch (err) {
      $("signin-msg").textContent = tr("bad_signin") + ": " + (navigator.onLine ? err.message : tr("need_online"));
      $("signin-msg").className = "msg bad";
    }
  }
  async function useToken(token) {
    state.token = token;
    await metaSet("token", token);
    await loadConfig();
  }
  async function loadConfig() {
    try {
      const r = await fetch("/api/capture/config", { headers: { Authorization: "Bearer " + state.token } });
      if (r.status === 401) { await signedOut(true); return; }
      if (r.ok) { state.config = await r.json(); await metaSet("config", state.config); }
    } catch (err) { /* offline: the saved config */ }
    if (!state.config) state.config = await metaGet("config");
    if (!state.config) { $("signin").hidden = false; $("signin-msg").textContent = tr("need_online"); return; }
    start();
  }
  async function signedOut(expired) {
    state.token = null;
    await metaDel("token");
    $("capture").hidden = true;
    $("signin").hidden = false;
    $("signin-msg").textContent = expired ? tr("signin_again") : "";
    $("signin-msg").className = "msg bad";
  }

  // -- the map and the point-in-kelurahan check --------------------------------------------------------------
  let map = null, marker = null, circle = null, shapes = [];
  function start() {
    $("signin").hidden = true;
    $("capture").hidden = false;
    $("who").textContent = tr("signed_in", { u: state.config.user });
    if (!map) {
      map = L.map("map", { zoomControl: true, maxZoom: 19 }).setView([-6.2, 106.84], 11);
      window.p4gnCapture = { map: map, state: state };
      if (state.config.tiles) {
        L.tileLayer(state.config.tiles, { maxZoom: 19, attribution: state.config.tiles_attribution || "" }).addTo(map);
      } else if (window.geoP4gn && state.config.basemap) {
        geoP4gn.basemap(map, state.config.basemap); // the local basemap file (/basemap/, see http/basemap.py)
      }
      if (window.geoP4gn) { // place names (kota, kecamatan, kelurahan by zoom) and the sites' names
        geoP4gn.setup(map);
        geoP4gn.labelsFrom(map, "/capture/map/labels.json",
          state.config.sites.map((s) => [s.lat, s.lon, s.name, 3, 14, 19]));
      }
      // the shapes go into the page's offline cache as soon as they are known (the service worker may not
      // yet control this first page)
      fetch(state.config.geometry_url).then((r) => {
        if (window.caches && r.ok) {
          const copy = r.clone();
          caches.open("p4gn-capture-data").then((c) => c.put(state.config.geometry_url, copy)).catch(() => {});
        }
        return r.json();
      }).then((fc) => {
        shapes = fc.features.map((f) => ({ p: f.properties, rings: polys(f.geometry), box: bbox(f.geometry) }));
        L.geoJSON(fc, { style: { color: "#1f4e79", weight: 1, fillOpacity: 0.04 }, interactive: false }).addTo(map);
        state.shapesReady = true;
        showPlace();
      }).catch(() => {});
      map.on("click", (e) => setPoint(e.latlng.lng, e.latlng.lat, "", null));
      for (const s of state.config.sites) {
        const tip = document.createElement("span");
        tip.textContent = s.name;
        L.circleMarker([s.lat, s.lon], { radius: 6, color: "#b2182b", weight: 2 }).bindTooltip(tip)
          .on("click", (ev) => { L.DomEvent.stopPropagation(ev); chooseSite(s.id); }).addTo(map);
      }
    }
    fillSelects();
    newForm();
    refresh();
    sync();
  }
  function polys(g) { return g.type === "Polygon" ? [g.coordinates] : g.coordinates; }
  function bbox(g) {
    let b = [180, 90, -180, -90];
    for (const poly of polys(g)) for (const [x, y] of poly[0]) b = [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)];
    return b;
  }
  function inRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inPoly(x, y, poly) { return inRing(x, y, poly[0]) && !poly.slice(1).some((h) => inRing(x, y, h)); }
  function segDist(px, py, ax, ay, bx, by) { // metres, local equirectangular
    const k = 111320, c = Math.cos((py * Math.PI) / 180);
    const X = (v) => v * k * c, Y = (v) => v * k;
    const [x, y, x1, y1, x2, y2] = [X(px), Y(py), X(ax), Y(ay), X(bx), Y(by)];
    const dx = x2 - x1, dy = y2 - y1, len = dx * dx + dy * dy;
    const t = len ? Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len)) : 0;
    return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
  }
  // inside a kelurahan -> it; else the nearest within the server's gap tolerance; else null (outside)
  function locate(x, y) {
    let best = null;
    for (const s of shapes) {
      if (x < s.box[0] || x > s.box[2] || y < s.box[1] || y > s.box[3]) continue;
      if (s.rings.some((poly) => inPoly(x, y, poly))) return { p: s.p, near: false };
    }
    const tol = state.config.gap_tolerance_m || 50, pad = tol / 100000;
    for (const s of shapes) {
      if (x < s.box[0] - pad || x > s.box[2] + pad || y < s.box[1] - pad || y > s.box[3] + pad) continue;
      for (const poly of s.rings) for (const ring of poly) for (let i = 1; i < ring.length; i++) {
        const d = segDist(x, y, ring[i - 1][0], ring[i - 1][1], ring[i][0], ring[i][1]);
        if (d <= tol && (!best || d < best.d)) best = { p: s.p, near: true, d: d };
      }
    }
    return best;
  }
  function setPoint(lon, lat, siteId, accuracy) {
    state.point = [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
    state.siteId = siteId || "";
    state.accuracy = accuracy;
    $("site").value = state.siteId;
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon]).addTo(map);
    if (circle) { circle.remove(); circle = null; }
    if (accuracy) circle = L.circle([lat, lon], { radius: accuracy, weight: 1 }).addTo(map);
    showPlace();
  }
  function showPlace() {
    const el = $("place");
    if (!el || !state.config) return;
    if (!state.point) { el.textContent = tr("no_point"); el.className = "msg"; state.kel = null; return; }
    if (!shapes.length) { el.textContent = state.point[1] + ", " + state.point[0]; el.className = "msg"; return; }
    const hit = locate(state.point[0], state.point[1]);
    state.kel = hit ? hit.p : null;
    let text = hit ? tr(hit.near ? "near_kel" : "in_kel", { kel: hit.p.name, kec: hit.p.kecamatan, kota: hit.p.kota })
                   : tr("outside");
    if (state.accuracy) text += " (" + tr("accuracy", { m: Math.round(state.accuracy) }) + ")";
    el.textContent = text;
    el.className = hit ? "msg good" : "msg bad";
  }
  function chooseSite(id) {
    const s = state.config.sites.find((x) => x.id === id);
    if (!s) { state.siteId = ""; return; }
    setPoint(s.lon, s.lat, s.id, null);
    map.setView([s.lat, s.lon], Math.max(map.getZoom(), 15));
  }
  function locateMe() {
    if (!navigator.geolocation) { $("place").textContent = tr("no_gps", { why: "-" }); return; }
    navigator.geolocation.getCurrentPosition((pos) => {
      setPoint(pos.coords.longitude, pos.coords.latitude, "", pos.coords.accuracy);
      map.setView([pos.coords.latitude, pos.coords.longitude], 16);
    }, (err) => { $("place").textContent = tr("no_gps", { why: err.message }); $("place").className = "msg bad"; },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  }

  // -- the form ----------------------------------------------------------------------------------------
  function option(value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; return o; }
  function fillSelects() {
    if (!state.config) return;
    const f = $("entry");
    for (const [name, terms] of [["type", state.config.types], ["actor", state.config.actors]]) {
      const sel = f[name], keep = sel.value;
      sel.replaceChildren(option("", "—"), ...terms.map((t) => option(t.key, state.lang === "en" ? t.en : t.id)));
      sel.value = keep;
    }
    const site = $("site"), keep = site.value;
    site.replaceChildren(option("", tr("choose_site")), ...state.config.sites.map((s) => option(s.id, s.name)));
    site.value = keep;
  }
  function today() { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10); }
  function newForm(entry) {
    const f = $("entry");
    f.reset();
    state.formId = entry ? entry.id : crypto.randomUUID(); // the id is made when the form opens
    state.editing = entry || null;
    f.date.value = entry ? entry.date : today();
    if (entry) {
      for (const k of ["type", "actor", "organisation", "participants", "notes"]) f[k].value = entry[k] == null ? "" : entry[k];
      setPoint(entry.lon, entry.lat, entry.site_id, null);
    }
  }
  async function save(ev) {
    ev.preventDefault();
    const f = $("entry"), msg = $("form-msg");
    const missing = [];
    if (!f.date.value) missing.push(tr("date"));
    if (!f.type.value) missing.push(tr("type"));
    if (!f.actor.value) missing.push(tr("actor"));
    if (!f.organisation.value.trim()) missing.push(tr("organisation"));
    if (missing.length) { msg.textContent = tr("required", { f: missing.join(", ") }); msg.className = "msg bad"; return; }
    if (!state.point) { msg.textContent = tr("no_point"); msg.className = "msg bad"; return; }
    if (shapes.length && !state.kel) { msg.textContent = tr("outside"); msg.className = "msg bad"; return; }
    const entry = {
      id: state.formId, date: f.date.value, type: f.type.value, actor: f.actor.value,
      organisation: f.organisation.value.trim(), participants: f.participants.value === "" ? null : Number(f.participants.value),
      notes: f.notes.value.trim(), site_id: state.siteId || null, lon: state.point[0], lat: state.point[1],
      kelurahan_guess: state.kel ? state.kel.code : null, status: "pending", reason: "", saved_at: new Date().toISOString(),
    };
    await putEntry(entry);
    msg.textContent = tr("saved"); msg.className = "msg good";
    state.point = null; state.siteId = ""; state.accuracy = null;
    if (marker) { marker.remove(); marker = null; }
    if (circle) { circle.remove(); circle = null; }
    newForm();
    showPlace();
    await refresh();
    sync();
  }

  // -- the list, the counter, sending ------------------------------------------------------------------------
  async function refresh() {
    if (!state.config) return;
    const entries = (await allEntries()).sort((a, b) => (a.saved_at < b.saved_at ? 1 : -1));
    const waiting = entries.filter((e) => e.status === "pending").length;
    const pend = $("pending");
    pend.textContent = tr("pending", { n: waiting });
    pend.dataset.count = String(waiting);
    pend.className = waiting ? "badge wait" : "badge";
    const net = $("net");
    net.textContent = navigator.onLine ? tr("online") : tr("offline");
    net.className = navigator.onLine ? "badge" : "badge off";
    const list = $("list");
    list.replaceChildren();
    if (!entries.length) { const li = document.createElement("li"); li.textContent = tr("none"); list.append(li); }
    for (const e of entries.slice(0, 50)) {
      const li = document.createElement("li");
      li.className = e.status;
      li.dataset.id = e.id;
      const type = state.config.types.find((t) => t.key === e.type);
      li.append(document.createTextNode(`${e.date} · ${type ? (state.lang === "en" ? type.en : type.id) : e.type} · ${e.organisation} — ${tr("st_" + e.status)}`
        + (e.kelurahan ? ` (${e.kelurahan})` : "")));
      if (e.reason) { const r = document.createElement("span"); r.className = "reason"; r.textContent = e.reason; li.append(r); }
      if (e.status === "refused" || e.status === "conflict") {
        const fix = document.createElement("button"); fix.type = "button"; fix.textContent = tr("fix");
        // a conflict means the id already holds other content: the fixed entry gets a new id
        fix.onclick = async () => { await delEntry(e.id); newForm(e.status === "conflict" ? { ...e, id: crypto.randomUUID() } : e); refresh(); window.scrollTo(0, 0); };
        const drop = document.createElement("button"); drop.type = "button"; drop.textContent = tr("drop");
        drop.onclick = async () => { await delEntry(e.id); refresh(); };
        li.append(" ", fix, " ", drop);
      }
      list.append(li);
    }
  }
  const SENT_FIELDS = ["id", "date", "type", "actor", "organisation", "participants", "notes", "site_id", "lat", "lon"];
  async function sync() {
    if (state.sending || !state.token || !navigator.onLine) { refresh(); return; }
    const pending = (await allEntries()).filter((e) => e.status === "pending");
    if (!pending.length) { refresh(); return; }
    state.sending = true;
    try {
      for (let i = 0; i < pending.length; i += 50) {
        const batch = pending.slice(i, i + 50);
        const body = { entries: batch.map((e) => Object.fromEntries(SENT_FIELDS.map((k) => [k, e[k]]))) };
        let r;
        try {
          r = await fetch("/api/capture/entries", { method: "POST", headers: { "Content-Type": "application/json",
            Authorization: "Bearer " + state.token }, body: JSON.stringify(body) });
        } catch (err) { break; } // no connection: everything stays pending
        if (r.status === 401) { await signedOut(true); break; }
        if (!r.ok) break;
        const { results } = await r.json();
        for (const res of results) {
          const e = batch.find((x) => x.id === res.id);
          if (!e) continue;
          if (res.status === "created" || res.status === "unchanged") {
            Object.assign(e, { status: "sent", reason: "", kelurahan: res.kelurahan || "", kelurahan_code: res.kelurahan_code });
          } else {
            Object.assign(e, { status: res.status === "conflict" ? "conflict" : "refused", reason: res.reason || "" });
          }
          await putEntry(e);
        }
      }
    } finally {
      state.sending = false;
      refresh();
    }
  }

  // -- the fallback file (GeoJSON, importable by Unggah data and `geo-p4gn import`, idempotently by id) --------
  async function exportFile() {
    const entries = (await allEntries()).filter((e) => e.status !== "sent");
    const fc = { type: "FeatureCollection", features: entries.map((e) => ({ type: "Feature",
      properties: { id: e.id, date: e.date, type: e.type, actor: e.actor, organisation: e.organisation,
                    participants: e.participants, notes: e.notes, site_id: e.site_id },
      geometry: { type: "Point", coordinates: [e.lon, e.lat] } })) };
    const blob = new Blob([JSON.stringify(fc, null, 1)], { type: "application/geo+json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "p4gn-tertunda-" + new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "") + ".geojson";
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    $("form-msg").textContent = tr("exported", { n: entries.length }); $("form-msg").className = "msg good";
  }

  // -- start -------------------------------------------------------------------------------------------
  async function main() {
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/capture/sw.js", { scope: "/capture/" }).catch(() => {});
    state.lang = (await metaGet("lang")) || "id";
    $("lang").onclick = async () => { state.lang = state.lang === "id" ? "en" : "id"; await metaSet("lang", state.lang); applyLang(); };
    $("signin-form").onsubmit = signIn;
    $("entry").onsubmit = save;
    $("locate").onclick = locateMe;
    $("site").onchange = (ev) => chooseSite(ev.target.value);
    $("send").onclick = sync;
    $("export").onclick = exportFile;
    $("signout").onclick = (ev) => { ev.preventDefault(); signedOut(false); };
    window.addEventListener("online", sync);
    window.addEventListener("offline", refresh);
    setInterval(sync, 30000);
    applyLang();
    const m = /[#&]token=([\w-]+)/.exec(location.hash); // the app's link carries a token in the fragment
    if (m) { history.replaceState(null, "", location.pathname); await useToken(m[1]); return; }
    state.token = await metaGet("token");
    if (state.token) await loadConfig(); else { $("signin").hidden = false; }
  }
  main();
})();
