// Browser helpers of the geo_p4gn map elements (window.geoP4gn).
// Tooltips, popups and the legend are built with textContent: no data is ever parsed as HTML.
window.geoP4gn = window.geoP4gn || (function () {
  var COLOR = /^#(?:[0-9a-fA-F]{3}){1,2}$/;
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined && txt !== null) { e.textContent = String(txt); }
    return e;
  }
  function swatch(color) {
    var i = el('i');
    if (COLOR.test(color)) { i.style.backgroundColor = color; }
    return i;
  }
  function popup(sections) {
    var box = el('div', 'gp-pop');
    sections.forEach(function (s) {
      box.appendChild(el('strong', null, s.t));
      var t = el('table');
      (s.r || []).forEach(function (row) {
        var tr = t.insertRow();
        tr.appendChild(el('th', null, row[0]));
        tr.appendChild(el('td', null, row[1]));
      });
      box.appendChild(t);
    });
    return box;
  }
  function bind(feature, layer, sticky) {
    var p = feature.properties || {};
    if (p._t) { layer.bindTooltip(el('div', null, p._t), {sticky: sticky}); }
    if (p._p && p._p.length) { layer.bindPopup(function () { return popup(p._p); }, {maxWidth: 320}); }
  }
  // The legend: a title that folds it (a button), then one section per metric: its title, the class scheme
  // (a note), and (colour, label) items drawn as squares (areas) or circles (markers). It never covers the
  // city: the map's view (spec.b, the bounds the map was fitted to) is fitted again beside it, to its left on
  // a wide map and above it on a narrow one (a phone), where it starts folded and lies across the map's foot.
  var NARROW = 600;
  function legend(div, spec, map) {
    var title = el('button', 'gp-legend-title', spec.t), items = el('div', 'gp-legend-items');
    title.type = 'button';
    if (spec.a) { title.setAttribute('aria-label', spec.t + ': ' + spec.a); title.title = spec.a; }
    div.appendChild(title);
    spec.s.forEach(function (section) {
      var box = el('div', 'gp-legend-section');
      if (section.t) { box.appendChild(el('b', null, section.t)); }
      if (section.n) { box.appendChild(el('small', 'gp-legend-note', section.n)); }
      section.i.forEach(function (item) {
        var row = el('div', 'gp-legend-item'), sw = swatch(item[0]);
        if (section.c) { sw.className = 'gp-circle'; }
        row.appendChild(sw);
        row.appendChild(document.createTextNode(String(item[1])));
        box.appendChild(row);
      });
      items.appendChild(box);
    });
    div.appendChild(items);
    var hasMap = !!(map && map.getSize && map.fitBounds);
    var narrow = hasMap ? map.getSize().x < NARROW
                        : !!(window.matchMedia && window.matchMedia('(max-width: 600px)').matches);
    function aside() {
      if (!hasMap || !spec.b || !div.offsetWidth) { return; }
      var pad = narrow ? [4, div.offsetHeight + 8] : [div.offsetWidth + 12, 4];
      map.fitBounds(spec.b, {paddingTopLeft: [4, 4], paddingBottomRight: pad, animate: false});
    }
    function setOpen(open) {
      div.classList.toggle('gp-collapsed', !open);
      title.setAttribute('aria-expanded', open ? 'true' : 'false');
    }
    title.addEventListener('click', function () { setOpen(div.classList.contains('gp-collapsed')); aside(); });
    if (narrow) { div.classList.add('gp-narrow'); }
    setOpen(!narrow);
    if (hasMap) {
      // once laid out (the frame may still be hidden when the script runs) and again shortly after, since
      // the host page may set the first view later (streamlit-folium runs parts of the script apart); never
      // after the person has touched the map. And after a resize.
      var touched = false, tries = 0, container = map.getContainer();
      ['mousedown', 'touchstart', 'wheel', 'keydown'].forEach(function (ev) {
        container.addEventListener(ev, function (e) { if (!div.contains(e.target)) { touched = true; } },
                                   {passive: true});
      });
      var early = function () {
        if (touched) { return; }
        if (div.offsetWidth) { aside(); }
        if (tries++ < 8) { window.setTimeout(early, tries < 3 ? 150 : 400); }
      };
      map.whenReady(function () { window.setTimeout(early, 0); });
      map.on('resize', aside);
    }
    return div;
  }
  var shapes = {};
  function geometry(url) {  // one request per file and page; the browser's cache keeps it across reruns
    if (!shapes[url]) {
      shapes[url] = fetch(url, {credentials: 'same-origin'}).then(function (r) {
        if (!r.ok) { throw new Error('geo_p4gn: ' + url + ' answered ' + r.status); }
        return r.json();
      });
    }
    return shapes[url];
  }
  // Shapes per zoom (geo_p4gn/render/geotiles.py): the folder "<name>/" next to "<name>.json" holds an index
  // of zoom bands and tiles; only the tiles in view are fetched, again after a pan or a zoom into another
  // band, each feature drawn once per band. No index: the one file.
  function tileXY(lat, lng, z) {
    var n = Math.pow(2, z), r = Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI / 180;
    var x = Math.floor((lng + 180) / 360 * n), y = Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n);
    return [Math.max(0, Math.min(n - 1, x)), Math.max(0, Math.min(n - 1, y))];
  }
  function tiled(layer, base, index, props) {
    var have = {}, band = null, drawn = {}, asked = {};
    Object.keys(index.tiles).forEach(function (t) {  // {zoom: {y: [[first x, last x], ...]}}
      have[t] = {};
      Object.keys(index.tiles[t]).forEach(function (y) {
        index.tiles[t][y].forEach(function (run) {
          for (var x = run[0]; x <= run[1]; x++) { have[t][x + '-' + y] = true; }
        });
      });
    });
    function pick(z) {
      var b = index.bands[0];
      index.bands.forEach(function (c) { if (z >= c[1]) { b = c; } });
      return b;
    }
    function update() {
      var map = layer._map;
      if (!map) { return; }
      var b = pick(map.getZoom());
      if (b !== band) { band = b; drawn = {}; asked = {}; layer.clearLayers(); }
      var t = b[0], m = b[3], bounds = map.getBounds();
      var nw = tileXY(bounds.getNorth(), bounds.getWest(), t), se = tileXY(bounds.getSouth(), bounds.getEast(), t);
      for (var x = nw[0] - m; x <= se[0] + m; x++) {
        for (var y = nw[1] - m; y <= se[1] + m; y++) {
          var key = x + '-' + y;
          if (!have[String(t)][key] || asked[key]) { continue; }
          asked[key] = true;
          (function (mine) {
            geometry(base + '/' + t + '/' + key + '.json').then(function (fc) {
              if (band !== mine) { return; }
              fc.features.forEach(function (f) {
                var code = f.properties && f.properties.code;
                if (drawn[code] || !Object.prototype.hasOwnProperty.call(props, code)) { return; }
                drawn[code] = true;
                layer.addData({type: 'Feature', geometry: f.geometry, properties: props[code]});
              });
            });
          })(b);
        }
      }
    }
    var bound = null;  // the map whose moves it follows (a layer switched off keeps no fetches going: update stops)
    function attach() {
      var map = layer._map;
      if (map && map !== bound) {
        if (bound) { bound.off('moveend', update); }
        bound = map;
        map.on('moveend', update);
      }
      update();
    }
    layer.on('add', attach);
    attach();
  }
  function fill(layer, url, props) {  // url: "<name>.json" (one file) or "<name>/" (its tiles)
    url = String(url);
    if (typeof props === 'string') {  // the properties by code in a file of their own (fetched with the shapes)
      geometry(url.charAt(url.length - 1) === '/' ? url + 'index.json' : url).catch(function () {});
      return geometry(props).then(function (p) { return fill(layer, url, p); });
    }
    if (url.charAt(url.length - 1) !== '/') { return whole(layer, url, props); }
    var base = url.slice(0, -1);
    return geometry(url + 'index.json').then(function (index) {
      return tiled(layer, base, index, props);
    }, function () { return whole(layer, base + '.json', props); });
  }
  function whole(layer, url, props) {
    return geometry(url).then(function (fc) {
      fc.features.forEach(function (f) {
        var code = f.properties && f.properties.code;
        if (Object.prototype.hasOwnProperty.call(props, code)) {
          layer.addData({type: 'Feature', geometry: f.geometry, properties: props[code]});
        }
      });
    });
  }
  // Place names: rows [lat, lng, text, kind, minZoom, maxZoom] (kind 0 kota, 1 kecamatan, 2 kelurahan,
  // 3 site), drawn in their own pane with textContent, shown by zoom and never on top of each other: at
  // each zoom or pan the rows are placed in order (the caller sorts them by priority) and a label whose box
  // would overlap one already placed is left out.
  var CHAR_W = [7.6, 6.6, 6.1, 6.1], LINE_H = [17, 15, 14, 14];
  function placeLabels(map, rows) {
    if (!map.getPane('gpLabels')) {
      var pane = map.createPane('gpLabels');
      pane.style.zIndex = 450;
      pane.style.pointerEvents = 'none';
    }
    var group = L.layerGroup().addTo(map);
    function overlaps(a, list) {
      for (var i = 0; i < list.length; i++) {
        var b = list[i];
        if (a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) { return true; }
      }
      return false;
    }
    function update() {
      group.clearLayers();
      var z = map.getZoom(), size = map.getSize(), placed = [];
      rows.forEach(function (r) {
        if (z < r[4] || z > r[5] || !r[2]) { return; }
        var p = map.latLngToContainerPoint([r[0], r[1]]);
        var kind = r[3] | 0, text = String(r[2]);
        var w = text.length * CHAR_W[kind] + 6, h = LINE_H[kind];
        var box = kind === 3 ? [p.x + 7, p.y - h / 2, p.x + 7 + w, p.y + h / 2]
                             : [p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2];
        if (box[0] < 0 || box[1] < 0 || box[2] > size.x || box[3] > size.y || overlaps(box, placed)) { return; }
        placed.push(box);
        group.addLayer(L.marker([r[0], r[1]], {
          icon: L.divIcon({className: 'gp-label gp-label-' + kind, html: el('span', null, text), iconSize: null}),
          interactive: false, keyboard: false, pane: 'gpLabels'
        }));
      });
    }
    map.on('zoomend moveend resize', update);
    map.whenReady(update);
    return group;
  }
  var PRIO = [0, 1, 3, 2];  // kota, kecamatan, then sites, then kelurahan
  function labelsFrom(map, url, extra) {  // rows from a file on the same server (kept by the browser)
    return geometry(url).then(function (rows) {
      var all = rows.concat(extra || []);
      all.sort(function (a, b) { return PRIO[a[3] | 0] - PRIO[b[3] | 0]; });  // stable: larger areas first
      return placeLabels(map, all);
    });
  }
  // A tap outside every feature (the sea, outside Jakarta) closes the tooltips a previous tap opened: a
  // phone has no mouse to leave the old kelurahan, so its tooltip would otherwise stay.
  function setup(map) {
    if (map._gpSetup) { return map; }
    map._gpSetup = true;
    map.on('click', function (e) {
      var from = e.sourceTarget || e.target;
      map.eachLayer(function (l) {
        if (l !== from && l.getTooltip && l.getTooltip() && l.isTooltipOpen && l.isTooltipOpen()) { l.closeTooltip(); }
      });
    });
    return map;
  }
  // The basemap of one local file served by the app: spec {kind: 'mbtiles'|'pmtiles', url, attribution,
  // min_zoom, max_zoom, script}. The attribution is text (escaped here: Leaflet writes it as HTML).
  function escText(s) { var d = document.createElement('div'); d.textContent = String(s || ''); return d.innerHTML; }
  var scripts = {};
  function loadScript(src) {
    if (!scripts[src]) {
      scripts[src] = new Promise(function (ok, fail) {
        var s = document.createElement('script');
        s.src = src; s.onload = ok; s.onerror = function () { fail(new Error('geo_p4gn: ' + src)); };
        document.head.appendChild(s);
      });
    }
    return scripts[src];
  }
  function basemap(map, spec) {
    if (!spec || !spec.url) { return null; }
    var attribution = escText(spec.attribution);
    if (spec.kind === 'mbtiles') {
      return L.tileLayer(spec.url, {minNativeZoom: spec.min_zoom, maxNativeZoom: spec.max_zoom, maxZoom: 19,
                                    attribution: attribution, className: 'gp-basemap'}).addTo(map);
    }
    return loadScript(spec.script).then(function () {
      var layer = window.protomapsL.leafletLayer({url: spec.url, flavor: 'light', lang: 'id',
                                                   attribution: attribution, maxZoom: 19});
      layer.addTo(map);
      layer.bringToBack && layer.bringToBack();
      return layer;
    });
  }
  return {el: el, popup: popup, bind: bind, legend: legend, fill: fill, placeLabels: placeLabels,
          labelsFrom: labelsFrom, setup: setup, basemap: basemap};
})();
