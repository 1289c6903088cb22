/** The dashboard (figures and charts, with the same figures as tables) and the map page. */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { CATEGORIES, STATUS_KEYS } from '../core/services/case.catalog.js';
import type { Dashboard, Period } from './console-stats.js';
import { hours, periodLabel } from './console-report.js';
import { categoryText, layout, statusText, type PageFrame } from './pages.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface DashboardPageData {
  d: Dashboard;
  period: Period;
  areas: { id: string; name: string }[];
  groups: { id: string; name: string; area: { name: string } }[];
  areaId?: string;
  groupId?: string;
  /** The query string of this view, for the export links. */
  query: string;
}

const CHANNEL_KEYS: Record<string, string> = { telegram: 'console:chTelegram', zalo: 'console:chZalo', web: 'console:chWeb' };

function option(value: string | number, label: string, selected: boolean): Html {
  return html`<option value="${String(value)}"${selected ? html` selected` : ''}>${label}</option>`;
}

export function dashboardPage(frame: PageFrame, p: DashboardPageData): Html {
  const { t } = frame;
  const { d, period } = p;
  const years = Array.from({ length: 6 }, (_, i) => period.year - 3 + i);
  const indexMax = period.kind === 'month' ? 12 : period.kind === 'quarter' ? 4 : 1;
  const categoryChart = {
    type: 'bar',
    labels: CATEGORIES.map((c) => categoryText(t, c)),
    datasets: [{ label: t('console:dashCases'), data: CATEGORIES.map((c) => d.byCategory[c] ?? 0) }],
  };
  const statuses = Object.keys(STATUS_KEYS).filter((s) => d.byStatus[s]);
  const statusChart = { type: 'doughnut', labels: statuses.map((s) => statusText(t, s)), datasets: [{ label: t('console:dashCases'), data: statuses.map((s) => d.byStatus[s]) }] };
  const timeChart = {
    type: 'line',
    labels: d.series.labels,
    datasets: [
      { label: t('console:dashCreated'), data: d.series.created },
      { label: t('console:dashResolvedSeries'), data: d.series.resolved },
    ],
  };
  const figure = (label: string, value: string | number) => html`<div class="figure"><dt>${label}</dt><dd>${String(value)}</dd></div>`;
  const rate = (n: number) => (d.alerts.sent ? `${Math.round((n / d.alerts.sent) * 100)}%` : '—');
  const body = html`<h1>${t('console:dashTitle', { period: periodLabel(t, period) })}</h1>
<form method="get" action="/console/dashboard" class="filters" aria-label="${t('console:dashFilters')}">
  <div class="field"><label for="d-period">${t('console:period')}</label>
    <select id="d-period" name="period">${option('month', t('console:periodMonth'), period.kind === 'month')}${option('quarter', t('console:periodQuarter'), period.kind === 'quarter')}${option('year', t('console:periodYear'), period.kind === 'year')}</select></div>
  <div class="field"><label for="d-index">${t('console:periodIndex')}</label>
    <select id="d-index" name="index">${Array.from({ length: 12 }, (_, i) => option(i + 1, String(i + 1), period.index === i + 1 && i < indexMax))}</select></div>
  <div class="field"><label for="d-year">${t('console:year')}</label>
    <select id="d-year" name="year">${years.map((y) => option(y, String(y), y === period.year))}</select></div>
  <div class="field"><label for="d-area">${t('console:area')}</label>
    <select id="d-area" name="area">${option('', t('console:any'), !p.areaId)}${p.areas.map((a) => option(a.id, a.name, a.id === p.areaId))}</select></div>
  <div class="field"><label for="d-group">${t('console:filterGroup')}</label>
    <select id="d-group" name="group">${option('', t('console:any'), !p.groupId)}${p.groups.map((g) => option(g.id, `${g.name} — ${g.area.name}`, g.id === p.groupId))}</select></div>
  <div class="field actions"><button type="submit">${t('console:show')}</button></div>
</form>
<p class="exports"><a href="/console/report.xlsx?${p.query}" download>${t('console:exportXlsx')}</a> · <a href="/console/report.csv?${p.query}" download>${t('console:exportCsv')}</a></p>
<section aria-labelledby="figures-h"><h2 id="figures-h">${t('console:dashFigures')}</h2>
<dl class="figures">
  ${figure(t('console:dashTotal'), d.total)}
  ${figure(t('console:dashResolved'), d.resolved)}
  ${figure(t('console:dashOpen'), d.open)}
  ${figure(t('console:dashOverdue'), d.overdue)}
  ${figure(t('console:dashUrgent'), d.urgent)}
  ${figure(t('console:dashAckMedian'), hours(d.ackMs.median) || '—')}
  ${figure(t('console:dashAckP90'), hours(d.ackMs.p90) || '—')}
  ${figure(t('console:dashResolveMedian'), hours(d.resolveMs.median) || '—')}
  ${figure(t('console:dashResolveP90'), hours(d.resolveMs.p90) || '—')}
  ${figure(t('console:dashAlerts'), d.alerts.count)}
  ${figure(t('console:dashAlertsSent'), d.alerts.sent)}
  ${figure(t('console:dashAlertsFailed'), d.alerts.failed)}
  ${figure(t('console:dashReceivedRate'), rate(d.alerts.received + d.alerts.safe + d.alerts.needHelp))}
  ${figure(t('console:dashSafe'), d.alerts.safe)}
  ${figure(t('console:dashNeedHelp'), d.alerts.needHelp)}
</dl></section>
<div class="charts">
<section aria-labelledby="c1-h"><h2 id="c1-h">${t('console:chartCategory')}</h2>
  <canvas class="chart" role="img" aria-label="${t('console:chartCategory')}" data-chart="${JSON.stringify(categoryChart)}"></canvas>
  <table class="data"><caption class="visually-hidden">${t('console:chartCategory')}</caption><tbody>${CATEGORIES.map((c) => html`<tr><th scope="row">${categoryText(t, c)}</th><td>${String(d.byCategory[c] ?? 0)}</td></tr>`)}</tbody></table>
</section>
<section aria-labelledby="c2-h"><h2 id="c2-h">${t('console:chartStatus')}</h2>
  <canvas class="chart" role="img" aria-label="${t('console:chartStatus')}" data-chart="${JSON.stringify(statusChart)}"></canvas>
  <table class="data"><caption class="visually-hidden">${t('console:chartStatus')}</caption><tbody>${statuses.map((s) => html`<tr><th scope="row">${statusText(t, s)}</th><td>${String(d.byStatus[s])}</td></tr>`)}</tbody></table>
</section>
<section aria-labelledby="c3-h" class="wide"><h2 id="c3-h">${t('console:chartTime')}</h2>
  <canvas class="chart" role="img" aria-label="${t('console:chartTime')}" data-chart="${JSON.stringify(timeChart)}"></canvas>
</section>
<section aria-labelledby="c4-h"><h2 id="c4-h">${t('console:membersTitle')}</h2>
  <table class="data"><tbody>${['telegram', 'zalo', 'web'].map((ch) => html`<tr><th scope="row">${t(CHANNEL_KEYS[ch]!)}</th><td>${String(d.members[ch] ?? 0)}</td></tr>`)}</tbody></table>
</section>
</div>
<script src="/console/assets/vendor/chart.umd.min.js" defer></script>
<script src="/console/assets/dashboard.js" defer></script>`;
  return layout({ ...frame, current: 'dashboard' }, body);
}

export interface MapPin {
  id: string;
  ref: string;
  category: string;
  status: string;
  lat: number;
  lon: number;
}

export function mapPage(frame: PageFrame, pins: MapPin[], tileUrl: string | undefined): Html {
  const { t } = frame;
  const data = pins.map((p) => ({ ref: p.ref, url: `/console/cases/${p.id}`, lat: p.lat, lon: p.lon, label: `${p.ref} · ${categoryText(t, p.category)} · ${statusText(t, p.status)}` }));
  const body = html`<h1>${t('console:mapTitle')}</h1>
<p>${t('console:mapIntro', { count: pins.length })}${tileUrl ? '' : html` ${t('console:mapNoTiles')}`}</p>
<div id="map" class="map" role="region" aria-label="${t('console:mapTitle')}" data-pins="${JSON.stringify(data)}" data-tiles="${tileUrl ?? ''}" data-attribution="${t('console:mapAttribution')}"></div>
<h2>${t('console:mapListTitle')}</h2>
<ul class="pins">${pins.slice(0, 100).map((p) => html`<li><a href="/console/cases/${p.id}">${p.ref}</a> · ${categoryText(t, p.category)} · ${statusText(t, p.status)} · ${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}</li>`)}</ul>
<script src="/console/assets/vendor/leaflet.js" defer></script>
<script src="/console/assets/map.js" defer></script>`;
  return layout({ ...frame, current: 'map', extraCss: '/console/assets/vendor/leaflet.css' }, body);
}
