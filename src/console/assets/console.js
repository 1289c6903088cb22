// The console's only script: keeps the "time left before escalation" countdowns ticking.
// Pages work without it (the server renders the time left when the page is loaded).
(function () {
  'use strict';
  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }
  function tick() {
    var now = Date.now();
    var items = document.querySelectorAll('time.countdown[datetime]');
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var left = Math.floor((Date.parse(el.getAttribute('datetime')) - now) / 1000);
      if (left <= 0) {
        el.textContent = el.getAttribute('data-late') || '0:00:00';
        el.classList.remove('countdown');
        el.classList.add('late');
        continue;
      }
      var h = Math.floor(left / 3600);
      var m = Math.floor((left % 3600) / 60);
      el.textContent = h + ':' + pad(m) + ':' + pad(left % 60);
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick();
    setInterval(tick, 1000);
  });
})();
