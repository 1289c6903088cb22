/** Alerts in the console: the sender's history and a live page per alert (counts, progress, follow-up). */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { formatTime } from '../core/format.js';
import { ALERT_CATEGORY_KEYS, type AlertCategory } from '../core/services/alert.catalog.js';
import { layout, type PageFrame, type T } from './pages.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface AlertCountsView {
  recipients: number;
  queued: number;
  sent: number;
  failed: number;
  received: number;
  safe: number;
  needHelp: number;
  /** Per channel: [channel, sent, failed, answered]. */
  channels: { channel: string; sent: number; failed: number; queued: number; answered: number }[];
}

export interface AlertRowView {
  id: string;
  headline: string;
  category: string;
  status: string;
  exercise: boolean;
  createdAt: Date;
  expiresAt: Date;
}

const STATUS_KEYS: Record<string, string> = { sending: 'console:alertSending', sent: 'console:alertSent', cancelled: 'console:alertCancelled' };
const CHANNEL_KEYS: Record<string, string> = { telegram: 'console:chTelegram', zalo: 'console:chZalo', web: 'console:chWeb' };
const alertCategory = (t: T, c: string) => t(ALERT_CATEGORY_KEYS[c as AlertCategory] ?? 'console:ev_other');
const alertStatus = (t: T, a: AlertRowView, now: Date) => (a.status !== 'cancelled' && a.expiresAt <= now ? t('console:alertExpired') : t(STATUS_KEYS[a.status] ?? 'console:alertSending'));

export function alertsPage(frame: PageFrame, alerts: AlertRowView[], now: Date): Html {
  const { t, locale } = frame;
  const body = html`<h1>${t('console:alertsTitle')}</h1>
<p>${t('console:alertsIntro')}</p>
<p><a href="/console/alerts/new" class="button-link">${t('console:composeTitle')}</a></p>
${alerts.length
  ? html`<table class="queue"><thead><tr><th scope="col">${t('console:alertHeadline')}</th><th scope="col">${t('console:colCategory')}</th><th scope="col">${t('console:colStatus')}</th><th scope="col">${t('console:created')}</th></tr></thead><tbody>
${alerts.map((a) => html`<tr><td data-label="${t('console:alertHeadline')}"><a href="/console/alerts/${a.id}">${a.headline}</a>${a.exercise ? html` <span class="badge">${t('console:exerciseBadge')}</span>` : ''}</td><td data-label="${t('console:colCategory')}">${alertCategory(t, a.category)}</td><td data-label="${t('console:colStatus')}">${alertStatus(t, a, now)}</td><td data-label="${t('console:created')}">${formatTime(a.createdAt, locale)}</td></tr>`)}
</tbody></table>`
  : html`<p class="empty">${t('console:alertsEmpty')}</p>`}`;
  return layout({ ...frame, current: 'alerts' }, body);
}

export interface AlertPageData {
  alert: AlertRowView & { text: string };
  counts: AlertCountsView;
  active: boolean;
  now: Date;
  notice?: { kind: 'ok' | 'error'; text: string };
  fieldError?: { action: 'update' | 'cancel'; text: string; value: string };
  maxText: number;
}

/** The counts' part of the page, also answered alone (JSON) for the refresh script. */
export function countsBlock(t: T, c: AlertCountsView): Html {
  const done = c.sent + c.failed;
  const percent = c.recipients ? Math.round((done / c.recipients) * 100) : 100;
  const answered = c.received + c.safe + c.needHelp;
  return html`<progress id="fanout" max="${c.recipients || 1}" value="${done}" aria-describedby="fanout-text"></progress>
<p id="fanout-text">${t('console:fanout', { done, recipients: c.recipients, percent })}</p>
<dl class="figures" id="alert-counts">
  <div class="figure"><dt>${t('console:alertRecipients')}</dt><dd data-count="recipients">${String(c.recipients)}</dd></div>
  <div class="figure"><dt>${t('console:alertQueued')}</dt><dd data-count="queued">${String(c.queued)}</dd></div>
  <div class="figure"><dt>${t('console:alertDelivered')}</dt><dd data-count="sent">${String(c.sent)}</dd></div>
  <div class="figure"><dt>${t('console:alertFailed')}</dt><dd data-count="failed">${String(c.failed)}</dd></div>
  <div class="figure"><dt>${t('console:alertReceived')}</dt><dd data-count="received">${String(c.received)}</dd></div>
  <div class="figure"><dt>${t('console:dashSafe')}</dt><dd data-count="safe">${String(c.safe)}</dd></div>
  <div class="figure"><dt>${t('console:dashNeedHelp')}</dt><dd data-count="needHelp">${String(c.needHelp)}</dd></div>
  <div class="figure"><dt>${t('console:alertAnswered')}</dt><dd data-count="answered">${String(answered)}</dd></div>
</dl>
<table class="data"><caption>${t('console:perChannel')}</caption><thead><tr><th scope="col">${t('console:channel')}</th><th scope="col">${t('console:alertDelivered')}</th><th scope="col">${t('console:alertFailed')}</th><th scope="col">${t('console:alertQueued')}</th><th scope="col">${t('console:alertAnswered')}</th></tr></thead>
<tbody>${c.channels.map((ch) => html`<tr><th scope="row">${t(CHANNEL_KEYS[ch.channel] ?? 'console:chWeb')}</th><td>${String(ch.sent)}</td><td>${String(ch.failed)}</td><td>${String(ch.queued)}</td><td>${String(ch.answered)}</td></tr>`)}</tbody></table>`;
}

export function alertPage(frame: PageFrame, d: AlertPageData): Html {
  const { t, locale } = frame;
  const csrf = frame.csrf ?? '';
  const followForm = (action: 'update' | 'cancel') => {
    const err = d.fieldError?.action === action ? d.fieldError : undefined;
    const id = `alert-${action}`;
    return html`<form method="post" action="/console/alerts/${d.alert.id}/act" class="action" novalidate>
  <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="${action}">
  <label for="${id}">${t(action === 'update' ? 'console:alertUpdateField' : 'console:alertCancelField')}</label>
  <textarea id="${id}" name="text" rows="3" maxlength="${d.maxText}"${err ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${err?.value ?? ''}</textarea>
  ${err ? html`<p class="field-error" id="${id}-error" role="alert">${err.text}</p>` : ''}
  <button type="submit">${t(action === 'update' ? 'alerts:update' : 'alerts:cancel')}</button>
</form>`;
  };
  const body = html`<p><a href="/console/alerts">${t('console:backToAlerts')}</a></p>
<h1>${d.alert.headline}${d.alert.exercise ? html` <span class="badge">${t('console:exerciseBadge')}</span>` : ''}</h1>
${d.notice ? html`<p class="notice ${d.notice.kind}" role="status">${d.notice.text}</p>` : ''}
<p class="muted">${alertCategory(t, d.alert.category)} · ${alertStatus(t, d.alert, d.now)} · ${t('console:created')} ${formatTime(d.alert.createdAt, locale)} · ${t('console:alertExpires')} ${formatTime(d.alert.expiresAt, locale)}</p>
<p class="description">${d.alert.text}</p>
<section aria-labelledby="live-h" id="live" data-source="/console/alerts/${d.alert.id}/counts" aria-live="polite">
<h2 id="live-h">${t('console:alertLive')}</h2>
<div id="live-counts">${countsBlock(t, d.counts)}</div>
</section>
${d.active
  ? html`<section class="actions" aria-labelledby="follow-h"><h2 id="follow-h">${t('console:actionsTitle')}</h2>
<form method="post" action="/console/alerts/${d.alert.id}/act" class="action"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="reping"><button type="submit">${t('alerts:reping')}</button></form>
${followForm('update')}
${followForm('cancel')}
</section>`
  : html`<p class="muted">${t('console:alertInactive')}</p>`}
<script src="/console/assets/alert-live.js" defer></script>`;
  return layout({ ...frame, current: 'alerts' }, body);
}

export interface ComposeValues {
  groupIds: string[];
  category: string;
  severity: string;
  headline: string;
  text: string;
  instruction: string;
  expiry: string;
  exercise: boolean;
}

export interface ComposeData {
  groups: { id: string; name: string; area: { name: string } }[];
  values: ComposeValues;
  errors: Partial<Record<keyof ComposeValues, string>>;
  categories: { value: string; label: string }[];
  severities: { value: string; label: string }[];
  expiries: { value: string; label: string }[];
  limits: { headline: number; text: number; instruction: number };
  /** After "preview": exactly what residents will read, how many, and the draft key of the confirm. */
  preview?: { text: string; buttons: string[]; audience: number; draftKey: string };
}

export function composePage(frame: PageFrame, d: ComposeData): Html {
  const { t } = frame;
  const v = d.values;
  const err = (field: keyof ComposeValues) => (d.errors[field] ? html`<p class="field-error" id="a-${field}-error" role="alert">${d.errors[field]}</p>` : '');
  const invalid = (field: keyof ComposeValues) => (d.errors[field] ? html` aria-invalid="true" aria-describedby="a-${field}-error"` : '');
  const select = (field: 'category' | 'severity' | 'expiry', label: string, options: { value: string; label: string }[]) =>
    html`<div class="field"><label for="a-${field}">${label}</label><select id="a-${field}" name="${field}"${invalid(field)}><option value="">${t('console:choose')}</option>${options.map((o) => html`<option value="${o.value}"${v[field] === o.value ? html` selected` : ''}>${o.label}</option>`)}</select>${err(field)}</div>`;
  const hidden = html`${v.groupIds.map((g) => html`<input type="hidden" name="group" value="${g}">`)}
<input type="hidden" name="category" value="${v.category}"><input type="hidden" name="severity" value="${v.severity}">
<input type="hidden" name="headline" value="${v.headline}"><input type="hidden" name="text" value="${v.text}">
<input type="hidden" name="instruction" value="${v.instruction}"><input type="hidden" name="expiry" value="${v.expiry}">
${v.exercise ? html`<input type="hidden" name="exercise" value="1">` : ''}`;
  const body = html`<p><a href="/console/alerts">${t('console:backToAlerts')}</a></p>
<h1>${t('console:composeTitle')}</h1>
${d.preview
  ? html`<section class="preview-box" aria-labelledby="pv-h"><h2 id="pv-h">${t('console:previewTitle', { count: d.preview.audience })}</h2>
<pre class="preview">${d.preview.text}</pre>
${d.preview.buttons.length ? html`<p class="muted">${t('console:previewButtons')} ${d.preview.buttons.join(' · ')}</p>` : ''}
<form method="post" action="/console/alerts/new" class="action">
<input type="hidden" name="csrf" value="${frame.csrf ?? ''}"><input type="hidden" name="step" value="send"><input type="hidden" name="draftKey" value="${d.preview.draftKey}">
${hidden}
<button type="submit">${t('console:sendAlert')}</button>
</form></section>`
  : ''}
<form method="post" action="/console/alerts/new" class="compose" novalidate>
<input type="hidden" name="csrf" value="${frame.csrf ?? ''}"><input type="hidden" name="step" value="preview">
<fieldset${invalid('groupIds')}><legend>${t('console:composeGroups')}</legend>
${d.groups.map((g) => html`<div class="field check"><input type="checkbox" id="a-g-${g.id}" name="group" value="${g.id}"${v.groupIds.includes(g.id) ? html` checked` : ''}><label for="a-g-${g.id}">${g.name} — ${g.area.name}</label></div>`)}
${err('groupIds')}</fieldset>
${select('category', t('console:colCategory'), d.categories)}
${select('severity', t('console:severity'), d.severities)}
<div class="field"><label for="a-headline">${t('console:alertHeadline')}</label><input id="a-headline" name="headline" type="text" maxlength="${d.limits.headline}" value="${v.headline}"${invalid('headline')}>${err('headline')}</div>
<div class="field"><label for="a-text">${t('console:alertText')}</label><textarea id="a-text" name="text" rows="4" maxlength="${d.limits.text}"${invalid('text')}>${v.text}</textarea>${err('text')}</div>
<div class="field"><label for="a-instruction">${t('console:alertInstruction')}</label><textarea id="a-instruction" name="instruction" rows="2" maxlength="${d.limits.instruction}"${invalid('instruction')}>${v.instruction}</textarea>${err('instruction')}</div>
${select('expiry', t('console:alertExpiry'), d.expiries)}
<div class="field check"><input type="checkbox" id="a-exercise" name="exercise" value="1"${v.exercise ? html` checked` : ''}><label for="a-exercise">${t('console:alertExercise')}</label></div>
<button type="submit">${t('console:previewAlert')}</button>
</form>`;
  return layout({ ...frame, current: 'alerts' }, body);
}
