// The cases with a pin on a Leaflet map (served locally). Tiles come from CONSOLE_TILE_URL when
// set; without it (or when the tile server cannot be reached) the pins still show on a blank map.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var el = document.getElementById('map');
    if (!el || typeof L === 'undefined') return;
    var pins = JSON.parse(el.getAttribute('data-pins') || '[]');
    var map = L.map(el, { scrollWheelZoom: false });
    var tiles = el.getAttribute('data-tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute('data-attribution') || '' }).addTo(map);
    var bounds = [];
    pins.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], { radius: 8, color: '#b3261e', weight: 2, fillOpacity: 0.7 }).addTo(map);
      var link = document.createElement('a');
      link.href = p.url;
      link.textContent = p.label;
      marker.bindPopup(link);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 16 });
    else map.setView([16.0, 106.0], 5);
    el.setAttribute('data-pins-drawn', String(pins.length));
  });
})();
