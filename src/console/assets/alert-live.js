// The live page of an alert: its counts and progress bar are fetched again every 3 seconds
// (the server renders them; this only swaps the fragment in), until the page is left.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var live = document.getElementById('live');
    var target = document.getElementById('live-counts');
    if (!live || !target) return;
    var source = live.getAttribute('data-source');
    var refreshes = 0;
    function refresh() {
      fetch(source, { credentials: 'same-origin', headers: { accept: 'text/html' } })
        .then(function (res) {
          return res.ok ? res.text() : null;
        })
        .then(function (html) {
          if (html !== null) {
            target.innerHTML = html;
            refreshes++;
            live.setAttribute('data-refreshes', String(refreshes));
          }
        })
        .catch(function () {});
    }
    setInterval(refresh, 3000);
  });
})();
