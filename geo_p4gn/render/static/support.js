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
  function legend(div, spec) {
    var title = el('strong', 'gp-legend-title', spec.t), items = el('div', 'gp-legend-items');
    title.setAttribute('role', 'button');
    title.tabIndex = 0;
    title.addEventListener('click', function () { div.classList.toggle('gp-collapsed'); });
    div.appendChild(title);
    spec.s.forEach(function (section) {
      if (section.t) { items.appendChild(el('b', null, section.t)); }
      section.i.forEach(function (item) {
        var row = el('div');
        row.appendChild(swatch(item[0]));
        row.appendChild(document.createTextNode(String(item[1])));
        items.appendChild(row);
      });
    });
    div.appendChild(items);
    if (window.matchMedia && window.matchMedia('(max-width: 600px)').matches) { div.classList.add('gp-collapsed'); }
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
  function fill(layer, url, props) {
    return geometry(url).then(function (fc) {
      fc.features.forEach(function (f) {
        var code = f.properties && f.properties.code;
        if (Object.prototype.hasOwnProperty.call(props, code)) {
          layer.addData({type: 'Feature', geometry: f.geometry, properties: props[code]});
        }
      });
    });
  }
  return {el: el, popup: popup, bind: bind, legend: legend, fill: fill};
})();
