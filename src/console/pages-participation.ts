/**
 * Consultations ("dân bàn"), mediation (tự hòa giải) and listening forums in the console. The
 * pages only show what the poll, mediation and forum services hand over: results are counts and
 * unsigned answers, the team's view of a request is the team's alone, and opinions come grouped
 * by concern as the bot groups them.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { formatTime } from '../core/format.js';
import { statusKey as mediationStatusKey } from '../core/services/mediation.service.js';
import { layout, type PageFrame, type T } from './pages.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;
type Notice = { kind: 'ok' | 'error'; text: string };

const noticeBlock = (n?: Notice) => (n ? html`<p class="notice ${n.kind}" role="status">${n.text}</p>` : '');
const KIND_KEYS: Record<string, string> = { single: 'polls:kindSingle', multiple: 'polls:kindMultiple', free: 'polls:kindFree' };
const OUTCOME_KEYS: Record<string, string> = { agreed: 'mediation:outcome_agreed', not_agreed: 'mediation:outcome_not_agreed', referred: 'mediation:outcome_referred' };
const openBadge = (t: T, open: boolean) => html`<span class="badge${open ? ' open' : ''}">${t(open ? 'console:stateOpen' : 'console:stateClosed')}</span>`;

// --- Consultations

export interface PollRowView {
  id: string;
  question: string;
  open: boolean;
  groups: string[];
  answers: number;
  closesAt: Date;
}

export function pollsPage(frame: PageFrame, rows: PollRowView[], canAsk: boolean): Html {
  const { t, locale } = frame;
  const body = html`<h1>${t('console:pollsTitle')}</h1>
<p>${t('console:pollsIntro')}</p>
${canAsk ? html`<p><a href="/console/polls/new" class="button-link">${t('console:pollNewTitle')}</a></p>` : ''}
${rows.length
  ? html`<table class="queue"><caption class="visually-hidden">${t('console:pollsTitle')}</caption>
<thead><tr><th scope="col">${t('console:pollQuestion')}</th><th scope="col">${t('console:colStatus')}</th><th scope="col">${t('console:pollGroups')}</th><th scope="col">${t('console:pollAnswers')}</th><th scope="col">${t('console:pollCloses')}</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td data-label="${t('console:pollQuestion')}"><a href="/console/polls/${r.id}">${r.question}</a></td><td data-label="${t('console:colStatus')}">${openBadge(t, r.open)}</td><td data-label="${t('console:pollGroups')}">${r.groups.join(', ')}</td><td data-label="${t('console:pollAnswers')}">${String(r.answers)}</td><td data-label="${t('console:pollCloses')}">${formatTime(r.closesAt, locale)}</td></tr>`,
)}
</tbody></table>`
  : html`<p class="empty">${t('console:pollsEmpty')}</p>`}`;
  return layout({ ...frame, current: 'polls' }, body);
}

export interface PollPageData {
  id: string;
  question: string;
  kind: string;
  anonymous: boolean;
  open: boolean;
  groups: string[];
  closesAt: Date;
  closedAt: Date | null;
  options: string[];
  results: { answers: number; counts: number[]; texts: string[] };
  notice?: Notice;
}

export function pollPage(frame: PageFrame, d: PollPageData): Html {
  const { t, locale } = frame;
  const r = d.results;
  const body = html`<p><a href="/console/polls">${t('console:backToPolls')}</a></p>
<h1>${d.question}</h1>
${noticeBlock(d.notice)}
<p class="muted">${openBadge(t, d.open)} · ${t(KIND_KEYS[d.kind] ?? 'polls:kindSingle')} · ${t(d.anonymous ? 'console:pollAnonymous' : 'console:pollNamed')} · ${d.groups.join(', ')}</p>
<p class="muted">${t(d.open ? 'console:pollClosesAt' : 'console:pollClosedAt', { time: formatTime(d.closedAt ?? d.closesAt, locale) })}</p>
<section aria-labelledby="results-h" class="preview-box">
<h2 id="results-h">${t(d.open ? 'console:pollResultsSoFar' : 'console:pollResults')}</h2>
<p>${t('console:pollAnswerCount', { count: r.answers })}</p>
${d.kind !== 'free'
  ? html`<table class="data results"><thead><tr><th scope="col">${t('console:pollOption')}</th><th scope="col">${t('console:pollVotes')}</th><th scope="col">%</th></tr></thead><tbody>
${d.options.map((o, i) => {
  const n = r.counts[i] ?? 0;
  const percent = r.answers ? Math.round((n * 100) / r.answers) : 0;
  return html`<tr><th scope="row">${o}</th><td>${String(n)}</td><td><meter min="0" max="100" value="${percent}" aria-label="${o}"></meter> ${String(percent)}%</td></tr>`;
})}
</tbody></table>`
  : html`<h3>${t('console:pollFreeAnswers')}</h3>
${r.texts.length ? html`<ul class="free-answers">${r.texts.map((x) => html`<li>${x}</li>`)}</ul>` : html`<p class="muted">${t('polls:resultsNoTexts')}</p>`}`}
<p class="muted">${t(d.anonymous ? 'console:pollPrivacy' : 'console:pollPrivacyNamed')}</p>
</section>`;
  return layout({ ...frame, current: 'polls' }, body);
}

export interface PollComposeValues {
  groupIds: string[];
  kind: string;
  question: string;
  options: string;
  closes: string;
  anonymous: boolean;
}

export interface PollComposeData {
  groups: { id: string; name: string; area: { name: string } }[];
  values: PollComposeValues;
  errors: Partial<Record<keyof PollComposeValues, string>>;
  limits: { question: number; minOptions: number; maxOptions: number };
  notice?: Notice;
  /** After "preview": what members will read, how many they are, and the confirm's draft key. */
  preview?: { text: string; buttons: string[]; audience: number; draftKey: string };
}

export function pollComposePage(frame: PageFrame, d: PollComposeData): Html {
  const { t } = frame;
  const v = d.values;
  const err = (f: keyof PollComposeValues) => (d.errors[f] ? html`<p class="field-error" id="p-${f}-error" role="alert">${d.errors[f]}</p>` : '');
  const invalid = (f: keyof PollComposeValues) => (d.errors[f] ? html` aria-invalid="true" aria-describedby="p-${f}-error"` : '');
  const hidden = html`${v.groupIds.map((g) => html`<input type="hidden" name="group" value="${g}">`)}
<input type="hidden" name="kind" value="${v.kind}"><input type="hidden" name="question" value="${v.question}">
<input type="hidden" name="options" value="${v.options}"><input type="hidden" name="closes" value="${v.closes}">
${v.anonymous ? html`<input type="hidden" name="anonymous" value="1">` : ''}`;
  const body = html`<p><a href="/console/polls">${t('console:backToPolls')}</a></p>
<h1>${t('console:pollNewTitle')}</h1>
${noticeBlock(d.notice)}
${d.preview
  ? html`<section class="preview-box" aria-labelledby="pv-h"><h2 id="pv-h">${t('console:pollPreviewTitle', { count: d.preview.audience })}</h2>
<pre class="preview">${d.preview.text}</pre>
${d.preview.buttons.length ? html`<p class="muted">${t('console:previewButtons')} ${d.preview.buttons.join(' · ')}</p>` : ''}
<form method="post" action="/console/polls/new" class="action">
<input type="hidden" name="csrf" value="${frame.csrf ?? ''}"><input type="hidden" name="step" value="send"><input type="hidden" name="draftKey" value="${d.preview.draftKey}">
${hidden}
<button type="submit">${t('console:pollSend')}</button>
</form></section>`
  : ''}
<form method="post" action="/console/polls/new" class="compose" novalidate>
<input type="hidden" name="csrf" value="${frame.csrf ?? ''}"><input type="hidden" name="step" value="preview">
<fieldset${invalid('groupIds')}><legend>${t('console:pollAudience')}</legend>
${d.groups.map((g) => html`<div class="field check"><input type="checkbox" id="p-g-${g.id}" name="group" value="${g.id}"${v.groupIds.includes(g.id) ? html` checked` : ''}><label for="p-g-${g.id}">${g.name} — ${g.area.name}</label></div>`)}
${err('groupIds')}</fieldset>
<fieldset${invalid('kind')}><legend>${t('polls:chooseKind')}</legend>
${['single', 'multiple', 'free'].map((k) => html`<div class="field check"><input type="radio" id="p-k-${k}" name="kind" value="${k}"${v.kind === k ? html` checked` : ''}><label for="p-k-${k}">${t(KIND_KEYS[k]!)}</label></div>`)}
${err('kind')}</fieldset>
<div class="field"><label for="p-question">${t('console:pollQuestion')}</label><textarea id="p-question" name="question" rows="2" maxlength="${d.limits.question}"${invalid('question')}>${v.question}</textarea>${err('question')}</div>
<div class="field"><label for="p-options">${t('console:pollOptionsField', { min: d.limits.minOptions, max: d.limits.maxOptions })}</label><textarea id="p-options" name="options" rows="5"${invalid('options')}>${v.options}</textarea>${err('options')}</div>
<div class="field"><label for="p-closes">${t('console:pollClosesField')}</label><input id="p-closes" name="closes" type="datetime-local" value="${v.closes}"${invalid('closes')}>${err('closes')}</div>
<div class="field check"><input type="checkbox" id="p-anonymous" name="anonymous" value="1"${v.anonymous ? html` checked` : ''}><label for="p-anonymous">${t('console:pollAnonymousField')}</label></div>
<button type="submit">${t('console:pollPreview')}</button>
</form>`;
  return layout({ ...frame, current: 'polls' }, body);
}

// --- Mediation

export interface MediationRowView {
  id: string;
  ref: string;
  groupName: string;
  status: string;
  createdAt: Date;
}

export interface ReferredRowView {
  id: string;
  ref: string;
  groupName: string;
  concludedAt: Date | null;
  caseId: string | null;
  caseRef: string | null;
}

export function mediationsPage(frame: PageFrame, team: MediationRowView[] | undefined, referred: ReferredRowView[] | undefined): Html {
  const { t, locale } = frame;
  const body = html`<h1>${t('console:mediationTitle')}</h1>
${team
  ? html`<section aria-labelledby="team-h"><h2 id="team-h">${t('console:mediationTeamList')}</h2>
<p class="muted">${t('console:mediationPrivacy')}</p>
${team.length
  ? html`<table class="queue"><thead><tr><th scope="col">${t('console:colRef')}</th><th scope="col">${t('console:colStatus')}</th><th scope="col">${t('console:colGroup')}</th><th scope="col">${t('console:created')}</th></tr></thead><tbody>
${team.map((m) => html`<tr><td data-label="${t('console:colRef')}"><a href="/console/mediation/${m.id}">${m.ref}</a></td><td data-label="${t('console:colStatus')}">${t(mediationStatusKey(m.status))}</td><td data-label="${t('console:colGroup')}">${m.groupName}</td><td data-label="${t('console:created')}">${formatTime(m.createdAt, locale)}</td></tr>`)}
</tbody></table>`
  : html`<p class="empty">${t('console:mediationEmpty')}</p>`}</section>`
  : ''}
${referred
  ? html`<section aria-labelledby="ref-h"><h2 id="ref-h">${t('console:mediationReferredList')}</h2>
<p class="muted">${t('console:mediationReferredIntro')}</p>
${referred.length
  ? html`<ul class="devices">${referred.map(
      (m) => html`<li><p><strong>${m.ref}</strong> · ${m.groupName}${m.concludedAt ? html` · <span class="muted">${formatTime(m.concludedAt, locale)}</span>` : ''}</p>
${m.caseId ? html`<p>${t('console:mediationCase')} <a href="/console/cases/${m.caseId}">${m.caseRef}</a></p>` : ''}</li>`,
    )}</ul>`
  : html`<p class="empty">${t('console:mediationReferredEmpty')}</p>`}</section>`
  : ''}`;
  return layout({ ...frame, current: 'mediation' }, body);
}

export interface MediationPageData {
  id: string;
  ref: string;
  groupName: string;
  status: string;
  createdAt: Date;
  requesterName: string | null;
  subject: string;
  otherDescription: string | null;
  otherConsent: boolean | null;
  otherName: string | null;
  sessionAt: string | null;
  requesterAnswer: string | null;
  otherAnswer: string | null;
  outcome: string | null;
  agreement: string | null;
  requesterHolds: boolean | null;
  otherHolds: boolean | null;
  limits: { reason: number; session: number; agreement: number };
  notice?: Notice;
  fieldError?: { action: string; text: string; value: string };
}

export function mediationPage(frame: PageFrame, d: MediationPageData): Html {
  const { t, locale } = frame;
  const csrf = frame.csrf ?? '';
  const answer = (a: string | null) => t(a === 'yes' ? 'mediation:answerYes' : a === 'no' ? 'mediation:answerNo' : 'mediation:answerNone');
  const holds = (h: boolean | null) => t(h === true ? 'mediation:holdsStill' : h === false ? 'mediation:holdsBroken' : 'mediation:answerNone');
  const other = d.otherDescription
    ? t('console:mediationOtherWords', { text: d.otherDescription })
    : d.otherConsent
      ? t('console:mediationOtherConsented', { name: d.otherName ?? t('mediation:someone') })
      : t(d.otherConsent === false ? 'mediation:teamOtherDeclined' : 'mediation:teamOtherInvited');
  const textForm = (action: string, labelKey: string, buttonKey: string, max: number, extra?: Html) => {
    const err = d.fieldError?.action === action ? d.fieldError : undefined;
    const id = `m-${action}`;
    return html`<form method="post" action="/console/mediation/${d.id}/act" class="action" novalidate>
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="${action}">
${extra ?? ''}
<label for="${id}">${t(labelKey)}</label>
<textarea id="${id}" name="text" rows="3" maxlength="${max}"${err ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${err?.value ?? ''}</textarea>
${err ? html`<p class="field-error" id="${id}-error" role="alert">${err.text}</p>` : ''}
<button type="submit">${t(buttonKey)}</button></form>`;
  };
  const working = d.status === 'accepted' || d.status === 'scheduled';
  const body = html`<p><a href="/console/mediation">${t('console:backToMediation')}</a></p>
<h1>${d.ref} <span class="muted">— ${d.groupName}</span></h1>
${noticeBlock(d.notice)}
<div class="case-grid">
<section aria-labelledby="m-facts"><h2 id="m-facts">${t('console:detailsTitle')}</h2>
<dl>
<dt>${t('console:colStatus')}</dt><dd>${t(mediationStatusKey(d.status))}</dd>
<dt>${t('console:mediationRequester')}</dt><dd>${d.requesterName ?? t('mediation:someone')}</dd>
<dt>${t('console:created')}</dt><dd>${formatTime(d.createdAt, locale)}</dd>
<dt>${t('console:mediationOther')}</dt><dd>${other}</dd>
${d.sessionAt ? html`<dt>${t('console:mediationSession')}</dt><dd>${d.sessionAt}</dd><dt>${t('console:mediationAnswers')}</dt><dd>${t('mediation:answersLine', { requester: answer(d.requesterAnswer), other: answer(d.otherAnswer) })}</dd>` : ''}
${d.outcome ? html`<dt>${t('console:mediationOutcome')}</dt><dd>${t(OUTCOME_KEYS[d.outcome] ?? 'mediation:outcome_agreed')}</dd>` : ''}
${d.agreement ? html`<dt>${t('console:mediationAgreement')}</dt><dd class="description">${d.agreement}</dd>` : ''}
${d.requesterHolds !== null || d.otherHolds !== null ? html`<dt>${t('console:mediationHolds')}</dt><dd>${t('mediation:holdsLine', { requester: holds(d.requesterHolds), other: holds(d.otherHolds) })}</dd>` : ''}
</dl>
<h2>${t('console:mediationSubject')}</h2>
<p class="description">${d.subject}</p>
<p class="muted">${t('console:mediationPrivacy')}</p>
</section>
<section class="actions" aria-labelledby="m-actions"><h2 id="m-actions">${t('console:actionsTitle')}</h2>
${d.status === 'new' ? html`<form method="post" action="/console/mediation/${d.id}/act" class="action"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="accept"><button type="submit">${t('mediation:accept')}</button></form>` : ''}
${working ? textForm('propose', 'console:mediationSessionField', 'mediation:propose', d.limits.session) : ''}
${working
  ? textForm(
      'conclude',
      'console:mediationAgreementField',
      'mediation:conclude',
      d.limits.agreement,
      html`<fieldset><legend>${t('console:mediationOutcome')}</legend>
<div class="field check"><input type="radio" id="m-o-agreed" name="outcome" value="agreed" checked><label for="m-o-agreed">${t('mediation:outcome_agreed')}</label></div>
<div class="field check"><input type="radio" id="m-o-not" name="outcome" value="not_agreed"><label for="m-o-not">${t('mediation:outcome_not_agreed')}</label></div></fieldset>`,
    )
  : ''}
${d.status === 'new' || working ? textForm('refer', 'console:mediationReferField', 'mediation:refer', d.limits.reason) : ''}
${d.status !== 'new' && !working ? html`<p class="muted">${t('console:mediationNoActions')}</p>` : ''}
</section>
</div>`;
  return layout({ ...frame, current: 'mediation' }, body);
}

// --- Listening forums

export interface ForumRowView {
  id: string;
  topic: string;
  open: boolean;
  closesAt: Date;
  opinions: number;
}

export function forumsPage(frame: PageFrame, rows: ForumRowView[]): Html {
  const { t, locale } = frame;
  const body = html`<h1>${t('console:forumsTitle')}</h1>
<p>${t('console:forumsIntro')}</p>
${rows.length
  ? html`<table class="queue"><thead><tr><th scope="col">${t('console:forumTopic')}</th><th scope="col">${t('console:colStatus')}</th><th scope="col">${t('console:forumOpinions')}</th><th scope="col">${t('console:pollCloses')}</th></tr></thead><tbody>
${rows.map((f) => html`<tr><td data-label="${t('console:forumTopic')}"><a href="/console/forums/${f.id}">${f.topic}</a></td><td data-label="${t('console:colStatus')}">${openBadge(t, f.open)}</td><td data-label="${t('console:forumOpinions')}">${String(f.opinions)}</td><td data-label="${t('console:pollCloses')}">${formatTime(f.closesAt, locale)}</td></tr>`)}
</tbody></table>`
  : html`<p class="empty">${t('console:forumsEmpty')}</p>`}`;
  return layout({ ...frame, current: 'forums' }, body);
}

export interface ForumOpinionView {
  n: number;
  text: string;
  signedBy: string | null;
  answer: string | null;
}

export interface ForumPageData {
  id: string;
  topic: string;
  open: boolean;
  closed: boolean;
  closesAt: Date;
  closedAt: Date | null;
  summary: string | null;
  groups: string[];
  count: number;
  concerns: { label: string; opinions: ForumOpinionView[] }[];
  limits: { answer: number; summary: number };
  notice?: Notice;
  fieldError?: { action: 'answer' | 'close'; text: string; value: string; picked?: number[] };
}

export function forumPage(frame: PageFrame, d: ForumPageData): Html {
  const { t, locale } = frame;
  const csrf = frame.csrf ?? '';
  const err = (a: 'answer' | 'close') => (d.fieldError?.action === a ? d.fieldError : undefined);
  const picked = new Set(err('answer')?.picked ?? []);
  const answerErr = err('answer');
  const closeErr = err('close');
  const body = html`<p><a href="/console/forums">${t('console:backToForums')}</a></p>
<h1>${d.topic}</h1>
${noticeBlock(d.notice)}
<p class="muted">${openBadge(t, d.open)} · ${d.groups.join(', ')} · ${t(d.closed ? 'console:pollClosedAt' : 'console:pollClosesAt', { time: formatTime(d.closedAt ?? d.closesAt, locale) })}</p>
${d.summary ? html`<section class="preview-box"><h2>${t('console:forumSummary')}</h2><p class="description">${d.summary}</p></section>` : ''}
<form method="post" action="/console/forums/${d.id}/act" class="forum" novalidate>
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="answer">
<h2>${t('console:forumConcerns', { count: d.count })}</h2>
${d.concerns.length
  ? d.concerns.map(
      (g, i) => html`<section class="concern" aria-labelledby="c-${i}"><h3 id="c-${i}">${t('console:forumConcern', { label: g.label, count: g.opinions.length })}</h3>
<ol class="opinions">${g.opinions.map(
        (o) => html`<li value="${o.n}">${!d.closed ? html`<input type="checkbox" id="o-${o.n}" name="n" value="${o.n}"${picked.has(o.n) ? html` checked` : ''}> ` : ''}<label for="o-${o.n}" class="opinion">${o.text}</label>${o.signedBy !== null ? html` <span class="muted">— ${o.signedBy || t('forums:someone')}</span>` : ''}${o.answer ? html`<p class="answer">${t('console:forumAnswered')} ${o.answer}</p>` : ''}</li>`,
      )}</ol></section>`,
    )
  : html`<p class="empty">${t('console:forumNoOpinions')}</p>`}
${!d.closed && d.count
  ? html`<div class="field"><label for="f-answer">${t('console:forumAnswerField')}</label>
<textarea id="f-answer" name="text" rows="3" maxlength="${d.limits.answer}"${answerErr ? html` aria-invalid="true" aria-describedby="f-answer-error"` : ''}>${answerErr?.value ?? ''}</textarea>
${answerErr ? html`<p class="field-error" id="f-answer-error" role="alert">${answerErr.text}</p>` : ''}</div>
<button type="submit">${t('console:forumAnswerButton')}</button>`
  : ''}
</form>
${!d.closed
  ? html`<form method="post" action="/console/forums/${d.id}/act" class="action" novalidate>
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="close">
<label for="f-summary">${t('console:forumSummaryField')}</label>
<textarea id="f-summary" name="text" rows="4" maxlength="${d.limits.summary}"${closeErr ? html` aria-invalid="true" aria-describedby="f-summary-error"` : ''}>${closeErr?.value ?? ''}</textarea>
${closeErr ? html`<p class="field-error" id="f-summary-error" role="alert">${closeErr.text}</p>` : ''}
<button type="submit">${t('console:forumCloseButton')}</button></form>`
  : ''}`;
  return layout({ ...frame, current: 'forums' }, body);
}
