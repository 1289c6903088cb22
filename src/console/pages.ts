/**
 * The console's pages: server-rendered HTML through Hono's html helper (every interpolated
 * value is escaped; nested html`` fragments are not escaped twice). No inline scripts or
 * styles: the CSP allows only /console/assets/*.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { formatTime } from '../core/format.js';
import { CATEGORIES, CATEGORY_KEYS, STATUS_KEYS, type Category } from '../core/services/case.catalog.js';
import { PAGE_SIZE, type QueueFilter } from './console-queries.js';

export type T = (key: string, params?: Record<string, unknown>) => string;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageFrame {
  t: T;
  locale: string;
  title: string;
  /** Signed in: the navigation and the sign-out form (with the session's CSRF token). */
  csrf?: string;
  current?: 'cases' | 'alerts' | 'groups' | 'polls' | 'mediation' | 'forums' | 'dashboard' | 'map' | 'devices';
  /** A stylesheet this page needs besides console.css (Leaflet's). */
  extraCss?: string;
}

export function layout(frame: PageFrame, body: Html): Html {
  const { t } = frame;
  return html`<!doctype html>
<html lang="${frame.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · ${t('console:appName')}</title>
${frame.extraCss ? html`<link rel="stylesheet" href="${frame.extraCss}">` : ''}
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t('console:skipToContent')}</a>
<header class="top">
  <span class="brand">${t('console:appName')}</span>
  ${frame.csrf
    ? html`<nav aria-label="${t('console:navLabel')}">
    <a href="/console/cases"${frame.current === 'cases' ? html` aria-current="page"` : ''}>${t('console:navCases')}</a>
    <a href="/console/alerts"${frame.current === 'alerts' ? html` aria-current="page"` : ''}>${t('console:navAlerts')}</a>
    <a href="/console/groups"${frame.current === 'groups' ? html` aria-current="page"` : ''}>${t('console:navGroups')}</a>
    <a href="/console/polls"${frame.current === 'polls' ? html` aria-current="page"` : ''}>${t('console:navPolls')}</a>
    <a href="/console/mediation"${frame.current === 'mediation' ? html` aria-current="page"` : ''}>${t('console:navMediation')}</a>
    <a href="/console/forums"${frame.current === 'forums' ? html` aria-current="page"` : ''}>${t('console:navForums')}</a>
    <a href="/console/dashboard"${frame.current === 'dashboard' ? html` aria-current="page"` : ''}>${t('console:navDashboard')}</a>
    <a href="/console/map"${frame.current === 'map' ? html` aria-current="page"` : ''}>${t('console:navMap')}</a>
    <a href="/console/devices"${frame.current === 'devices' ? html` aria-current="page"` : ''}>${t('console:navDevices')}</a>
    <form method="post" action="/console/signout" class="inline">
      <input type="hidden" name="csrf" value="${frame.csrf}">
      <button type="submit" class="link">${t('console:signOut')}</button>
    </form>
  </nav>`
    : ''}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}

/** A page that only says something: signed out, link expired, not allowed, not found. */
export function messagePage(frame: PageFrame, heading: string, text: string, extra?: Html): Html {
  return layout(frame, html`<section class="message"><h1>${heading}</h1><p>${text}</p>${extra ?? ''}</section>`);
}

/** What a sign-in link opens: one button that signs this browser in (the token is spent only then). */
export function signInPage(frame: PageFrame, token: string): Html {
  const { t } = frame;
  return layout(
    frame,
    html`<section class="message"><h1>${t('console:signInButton')}</h1><p>${t('console:signInExplain')}</p>
<form method="post" action="/console/login"><input type="hidden" name="t" value="${token}"><button type="submit">${t('console:signInButton')}</button></form></section>`,
  );
}

export const categoryText = (t: T, category: string) => t(CATEGORY_KEYS[category as Category] ?? 'report:cat_other');
export const statusText = (t: T, status: string) => t(STATUS_KEYS[status] ?? 'cases:status_new');

/** "2 ngày", "3 giờ", "12 phút": a short age. */
export function ageText(t: T, ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return t('console:ageMinutes', { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('console:ageHours', { count: hours });
  return t('console:ageDays', { count: Math.floor(hours / 24) });
}

/** "1:02:03" (hours:minutes:seconds), the countdown's text; console.js keeps it ticking. */
export function remainingText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

function countdown(t: T, deadline: Date | null, now: Date): Html {
  if (!deadline) return html`<span class="muted">${t('console:noDeadline')}</span>`;
  const left = deadline.getTime() - now.getTime();
  if (left <= 0) return html`<span class="late">${t('console:deadlinePassed')}</span>`;
  return html`<time class="countdown" datetime="${deadline.toISOString()}" data-late="${t('console:deadlinePassed')}">${remainingText(left)}</time>`;
}

export interface QueueRow {
  id: string;
  ref: string;
  category: string;
  status: string;
  urgent: boolean;
  level: string;
  overdueAt: Date | null;
  escalateAt: Date | null;
  createdAt: Date;
  group: { name: string } | null;
}

export interface QueuePageData {
  filter: QueueFilter;
  rows: QueueRow[];
  total: number;
  pages: number;
  groups: { id: string; name: string; area: { name: string } }[];
  now: Date;
  /** The current query string without the page, for the paging links. */
  queryWithoutPage: string;
}

const STATUS_FILTER_KEYS: Record<string, string> = {
  open: 'console:filterOpen',
  all: 'console:filterAll',
};

function option(value: string, label: string, selected: boolean): Html {
  return html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
}

export function queuePage(frame: PageFrame, d: QueuePageData): Html {
  const { t } = frame;
  const f = d.filter;
  const statuses = ['open', 'all', ...Object.keys(STATUS_KEYS)];
  const pageLink = (page: number) => `/console/cases?${d.queryWithoutPage}${d.queryWithoutPage ? '&' : ''}page=${page}`;
  const body = html`<h1>${t('console:queueTitle')}</h1>
<form method="get" action="/console/cases" class="filters" role="search" aria-label="${t('console:filtersLabel')}">
  <div class="field"><label for="f-q">${t('console:search')}</label>
    <input id="f-q" name="q" type="search" value="${f.q ?? ''}" maxlength="100" placeholder="${t('console:searchPlaceholder')}"></div>
  <div class="field"><label for="f-status">${t('console:filterStatus')}</label>
    <select id="f-status" name="status">${statuses.map((s) => option(s, STATUS_FILTER_KEYS[s] ? t(STATUS_FILTER_KEYS[s]!) : statusText(t, s), f.status === s))}</select></div>
  <div class="field"><label for="f-category">${t('console:filterCategory')}</label>
    <select id="f-category" name="category">${option('', t('console:any'), !f.category)}${CATEGORIES.map((c) => option(c, categoryText(t, c), f.category === c))}</select></div>
  <div class="field"><label for="f-level">${t('console:filterLevel')}</label>
    <select id="f-level" name="level">${option('', t('console:any'), !f.level)}${option('group', t('console:levelGroup'), f.level === 'group')}${option('area', t('console:levelPolice'), f.level === 'area')}</select></div>
  <div class="field"><label for="f-group">${t('console:filterGroup')}</label>
    <select id="f-group" name="group">${option('', t('console:any'), !f.groupId)}${d.groups.map((g) => option(g.id, `${g.name} — ${g.area.name}`, f.groupId === g.id))}</select></div>
  <div class="field"><label for="f-sort">${t('console:sort')}</label>
    <select id="f-sort" name="sort">${option('default', t('console:sortDefault'), f.sort === 'default')}${option('oldest', t('console:sortOldest'), f.sort === 'oldest')}${option('newest', t('console:sortNewest'), f.sort === 'newest')}${option('deadline', t('console:sortDeadline'), f.sort === 'deadline')}</select></div>
  <div class="field check"><input id="f-urgent" name="urgent" type="checkbox" value="1"${f.urgent ? html` checked` : ''}><label for="f-urgent">${t('console:filterUrgent')}</label></div>
  <div class="field check"><input id="f-overdue" name="overdue" type="checkbox" value="1"${f.overdue ? html` checked` : ''}><label for="f-overdue">${t('console:filterOverdue')}</label></div>
  <div class="field check"><input id="f-mine" name="mine" type="checkbox" value="1"${f.mine ? html` checked` : ''}><label for="f-mine">${t('console:filterMine')}</label></div>
  <div class="field actions"><button type="submit">${t('console:applyFilters')}</button> <a href="/console/cases">${t('console:clearFilters')}</a></div>
</form>
<p class="count" role="status">${t('console:queueCount', { count: d.total })}</p>
${d.rows.length
  ? html`<table class="queue">
<caption class="visually-hidden">${t('console:queueTitle')}</caption>
<thead><tr><th scope="col">${t('console:colRef')}</th><th scope="col">${t('console:colCategory')}</th><th scope="col">${t('console:colStatus')}</th><th scope="col">${t('console:colGroup')}</th><th scope="col">${t('console:colAge')}</th><th scope="col">${t('console:colDeadline')}</th></tr></thead>
<tbody>
${d.rows.map(
  (r) => html`<tr${r.urgent ? html` class="urgent"` : ''}>
<td data-label="${t('console:colRef')}"><a href="/console/cases/${r.id}">${r.ref}</a>${r.urgent ? html` <span class="badge urgent">${t('console:urgentBadge')}</span>` : ''}${r.overdueAt ? html` <span class="badge late">${t('console:overdueBadge')}</span>` : ''}</td>
<td data-label="${t('console:colCategory')}">${categoryText(t, r.category)}</td>
<td data-label="${t('console:colStatus')}">${statusText(t, r.status)}${r.level === 'area' ? html` <span class="muted">(${t('console:levelPolice')})</span>` : ''}</td>
<td data-label="${t('console:colGroup')}">${r.group?.name ?? ''}</td>
<td data-label="${t('console:colAge')}">${ageText(t, d.now.getTime() - r.createdAt.getTime())}</td>
<td data-label="${t('console:colDeadline')}">${countdown(t, r.escalateAt, d.now)}</td>
</tr>`,
)}
</tbody></table>
<nav class="paging" aria-label="${t('console:pagingLabel')}">
${f.page > 0 ? html`<a href="${pageLink(f.page - 1)}" rel="prev">${t('console:prevPage')}</a>` : ''}
<span>${t('console:pageOf', { page: f.page + 1, pages: d.pages })}</span>
${(f.page + 1) * PAGE_SIZE < d.total ? html`<a href="${pageLink(f.page + 1)}" rel="next">${t('console:nextPage')}</a>` : ''}
</nav>`
  : html`<p class="empty">${t('console:queueEmpty')}</p>`}`;
  return layout({ ...frame, current: 'cases' }, body);
}

export type ConsoleAction = 'acknowledge' | 'ask' | 'note' | 'resolve' | 'duplicate' | 'escalate' | 'reopen';
export const TEXT_ACTIONS: ReadonlySet<ConsoleAction> = new Set(['ask', 'note', 'resolve', 'duplicate']);

const ACTION_LABEL_KEYS: Record<ConsoleAction, string> = {
  acknowledge: 'cases:actAcknowledge',
  ask: 'cases:actAsk',
  note: 'cases:actNote',
  resolve: 'cases:actResolve',
  duplicate: 'cases:actDuplicate',
  escalate: 'cases:actEscalate',
  reopen: 'cases:actReopen',
};
const ACTION_FIELD_KEYS: Record<ConsoleAction, string> = {
  acknowledge: 'console:fieldText',
  ask: 'console:fieldAsk',
  note: 'console:fieldNote',
  resolve: 'console:fieldResolve',
  duplicate: 'console:fieldDuplicate',
  escalate: 'console:fieldText',
  reopen: 'console:fieldText',
};
export const DONE_KEYS: Record<ConsoleAction, string> = {
  acknowledge: 'console:doneAcknowledge',
  ask: 'console:doneAsk',
  note: 'console:doneNote',
  resolve: 'console:doneResolve',
  duplicate: 'console:doneDuplicate',
  escalate: 'console:doneEscalate',
  reopen: 'console:doneReopen',
};

export interface CasePageData {
  id: string;
  ref: string;
  category: string;
  status: string;
  urgent: boolean;
  overdue: boolean;
  levelText: string;
  reporter: string;
  group: string;
  area: string;
  createdAt: Date;
  escalateAt: Date | null;
  description: string;
  pin?: { lat: number; lon: number };
  placeText?: string | null;
  photo?: string;
  thread: { who: string; internal: boolean; fromReporter: boolean; text: string; createdAt: Date; photo?: string }[];
  events: { type: string; createdAt: Date }[];
  actions: ConsoleAction[];
  now: Date;
  /** A message after an action (done) or a refusal not tied to one field. */
  notice?: { kind: 'ok' | 'error'; text: string };
  /** A refusal beside one action's field, with what was typed. */
  fieldError?: { action: ConsoleAction; text: string; value: string };
  maxText: number;
}

const EVENT_KEYS: Record<string, string> = {
  created: 'console:ev_created',
  acknowledged: 'console:ev_acknowledged',
  asked: 'console:ev_asked',
  noted: 'console:ev_noted',
  resolved: 'console:ev_resolved',
  duplicate: 'console:ev_duplicate',
  escalated: 'console:ev_escalated',
  reopened: 'console:ev_reopened',
  closed: 'console:ev_closed',
  closed_not_fixed: 'console:ev_closed_not_fixed',
  reporter_message: 'console:ev_reporter_message',
  overdue: 'console:ev_overdue',
};

export function casePage(frame: PageFrame, d: CasePageData): Html {
  const { t, locale } = frame;
  const csrf = frame.csrf ?? '';
  const mapUrl = d.pin ? `https://www.openstreetmap.org/?mlat=${d.pin.lat}&mlon=${d.pin.lon}#map=17/${d.pin.lat}/${d.pin.lon}` : undefined;
  const actionForm = (a: ConsoleAction) => {
    const needsText = TEXT_ACTIONS.has(a);
    const err = d.fieldError?.action === a ? d.fieldError : undefined;
    const fieldId = `text-${a}`;
    return html`<form method="post" action="/console/cases/${d.id}/act" class="action" novalidate>
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="action" value="${a}">
  ${needsText
    ? html`<label for="${fieldId}">${t(ACTION_FIELD_KEYS[a])}</label>
  ${a === 'duplicate'
    ? html`<input id="${fieldId}" name="text" type="text" maxlength="20" value="${err?.value ?? ''}"${err ? html` aria-invalid="true" aria-describedby="${fieldId}-error"` : ''}>`
    : html`<textarea id="${fieldId}" name="text" rows="3" maxlength="${d.maxText}"${err ? html` aria-invalid="true" aria-describedby="${fieldId}-error"` : ''}>${err?.value ?? ''}</textarea>`}
  ${err ? html`<p class="field-error" id="${fieldId}-error" role="alert">${err.text}</p>` : ''}`
    : ''}
  <button type="submit">${t(ACTION_LABEL_KEYS[a])}</button>
</form>`;
  };
  const body = html`<p><a href="/console/cases">${t('console:backToQueue')}</a></p>
<h1>${d.ref} · ${categoryText(t, d.category)}${d.urgent ? html` <span class="badge urgent">${t('console:urgentBadge')}</span>` : ''}${d.overdue ? html` <span class="badge late">${t('console:overdueBadge')}</span>` : ''}</h1>
${d.notice ? html`<p class="notice ${d.notice.kind}" role="status">${d.notice.text}</p>` : ''}
<div class="case-grid">
<section class="facts" aria-labelledby="facts-h">
<h2 id="facts-h">${t('console:detailsTitle')}</h2>
<dl>
  <dt>${t('console:colStatus')}</dt><dd>${statusText(t, d.status)} — ${d.levelText}</dd>
  <dt>${t('console:reporter')}</dt><dd class="reporter">${d.reporter}</dd>
  <dt>${t('console:colGroup')}</dt><dd>${d.group}${d.group ? ', ' : ''}${d.area}</dd>
  <dt>${t('console:created')}</dt><dd>${formatTime(d.createdAt, locale)}</dd>
  <dt>${t('console:colDeadline')}</dt><dd>${countdown(t, d.escalateAt, d.now)}</dd>
  ${d.pin ? html`<dt>${t('console:place')}</dt><dd>${d.pin.lat.toFixed(5)}, ${d.pin.lon.toFixed(5)} · <a href="${mapUrl}" target="_blank" rel="noopener noreferrer">${t('console:openMap')}</a></dd>` : ''}
  ${d.placeText ? html`<dt>${t('console:placeText')}</dt><dd>${d.placeText}</dd>` : ''}
</dl>
<h2>${t('console:descriptionTitle')}</h2>
<p class="description">${d.description}</p>
${d.photo ? html`<figure><img src="${d.photo}" alt="${t('console:photoAlt', { ref: d.ref })}" class="photo"><figcaption>${t('console:photoCaption')}</figcaption></figure>` : ''}
</section>
<section class="thread" aria-labelledby="thread-h">
<h2 id="thread-h">${t('console:threadTitle')}</h2>
${d.thread.length
  ? html`<ol class="messages">${d.thread.map(
      (m) => html`<li class="${m.internal ? 'internal' : m.fromReporter ? 'from-reporter' : 'from-handler'}"><p class="who">${m.who} · <span class="muted">${formatTime(m.createdAt, locale)}</span></p><p class="text">${m.text}</p>${m.photo ? html`<img src="${m.photo}" alt="${t('console:photoAlt', { ref: d.ref })}" class="photo">` : ''}</li>`,
    )}</ol>`
  : html`<p class="muted">${t('console:threadEmpty')}</p>`}
<h2>${t('console:historyTitle')}</h2>
<ol class="events">${d.events.map((e) => html`<li>${formatTime(e.createdAt, locale)} — ${t(EVENT_KEYS[e.type] ?? 'console:ev_other')}</li>`)}</ol>
</section>
<section class="actions" aria-labelledby="actions-h">
<h2 id="actions-h">${t('console:actionsTitle')}</h2>
${d.actions.length ? d.actions.map(actionForm) : html`<p class="muted">${t('console:noActions')}</p>`}
</section>
</div>`;
  return layout({ ...frame, current: 'cases' }, body);
}

export interface DeviceRow {
  id: string;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

export function devicesPage(frame: PageFrame, devices: DeviceRow[], currentId: string, notice?: string): Html {
  const { t, locale } = frame;
  const body = html`<h1>${t('console:devicesTitle')}</h1>
<p>${t('console:devicesIntro')}</p>
${notice ? html`<p class="notice ok" role="status">${notice}</p>` : ''}
<ul class="devices">
${devices.map(
  (d) => html`<li>
  <p><strong>${d.userAgent ?? t('console:unknownDevice')}</strong>${d.id === currentId ? html` <span class="badge">${t('console:thisDevice')}</span>` : ''}</p>
  <p class="muted">${t('console:deviceTimes', { created: formatTime(d.createdAt, locale), seen: formatTime(d.lastSeenAt, locale) })}</p>
  <form method="post" action="/console/devices/${d.id}/signout">
    <input type="hidden" name="csrf" value="${frame.csrf ?? ''}">
    <button type="submit">${t('console:signOutDevice')}</button>
  </form>
</li>`,
)}
</ul>`;
  return layout({ ...frame, current: 'devices' }, body);
}
