// Draws the dashboard's charts with Chart.js (served by the service itself, no CDN). The same
// figures are in tables next to each chart, so the page says everything without this script.
(function () {
  'use strict';
  var COLOURS = ['#0b5cad', '#b3261e', '#1e6b35', '#c77700', '#6a3d9a', '#00838f', '#5d4037', '#546e7a', '#ad1457'];
  document.addEventListener('DOMContentLoaded', function () {
    if (typeof Chart === 'undefined') return;
    var canvases = document.querySelectorAll('canvas.chart[data-chart]');
    for (var i = 0; i < canvases.length; i++) {
      var spec = JSON.parse(canvases[i].getAttribute('data-chart'));
      var many = spec.type === 'doughnut';
      var datasets = spec.datasets.map(function (d, j) {
        return {
          label: d.label,
          data: d.data,
          backgroundColor: many ? COLOURS : COLOURS[j % COLOURS.length],
          borderColor: many ? '#fff' : COLOURS[j % COLOURS.length],
          tension: 0.2,
        };
      });
      canvases[i].chart = new Chart(canvases[i], {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets },
        options: { responsive: true, maintainAspectRatio: true, aspectRatio: spec.type === 'doughnut' ? 1.6 : 2, animation: false, plugins: { legend: { display: spec.type !== 'bar' } } },
      });
    }
    document.body.setAttribute('data-charts-drawn', String(canvases.length));
  });
})();
