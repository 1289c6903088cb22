/** Groups in the console: the groups one manages, and one group's members, requests, deputies, invite code and notices. */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { layout, type PageFrame } from './pages.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const ROLE_KEYS: Record<string, string> = { member: 'groups:role_member', deputy: 'groups:role_deputy', leader: 'groups:role_leader' };
const CHANNEL_KEYS: Record<string, string> = { telegram: 'console:chTelegram', zalo: 'console:chZalo', web: 'console:chWeb' };

export function groupsPage(frame: PageFrame, groups: { id: string; name: string; area: { name: string } }[]): Html {
  const { t } = frame;
  const body = html`<h1>${t('console:groupsTitle')}</h1>
${groups.length
  ? html`<ul class="devices">${groups.map((g) => html`<li><a href="/console/groups/${g.id}">${g.name}</a> <span class="muted">— ${g.area.name}</span></li>`)}</ul>`
  : html`<p class="empty">${t('console:groupsEmpty')}</p>`}`;
  return layout({ ...frame, current: 'groups' }, body);
}

export interface GroupPageData {
  group: { id: string; name: string; areaName: string; joinPolicy: string };
  stats: { total: number; byChannel: Record<string, number>; pending: number };
  pending: { membershipId: string; label: string }[];
  members: { membershipId: string; label: string; role: string; channel: string | null }[];
  inviteCode: string;
  canAppointDeputy: boolean;
  notice?: { kind: 'ok' | 'error'; text: string };
  noticeError?: { text: string; value: string };
  maxNotice: number;
}

export function groupPage(frame: PageFrame, d: GroupPageData): Html {
  const { t } = frame;
  const csrf = frame.csrf ?? '';
  const button = (action: string, label: string, membershipId?: string) =>
    html`<form method="post" action="/console/groups/${d.group.id}/act" class="inline"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="${action}">${membershipId ? html`<input type="hidden" name="membership" value="${membershipId}">` : ''}<button type="submit">${label}</button></form>`;
  const body = html`<p><a href="/console/groups">${t('console:backToGroups')}</a></p>
<h1>${d.group.name} <span class="muted">— ${d.group.areaName}</span></h1>
${d.notice ? html`<p class="notice ${d.notice.kind}" role="status">${d.notice.text}</p>` : ''}
<section aria-labelledby="g-stats"><h2 id="g-stats">${t('console:membersTitle')}</h2>
<dl class="figures">
  <div class="figure"><dt>${t('console:groupActive')}</dt><dd>${String(d.stats.total)}</dd></div>
  ${['telegram', 'zalo', 'web'].map((ch) => html`<div class="figure"><dt>${t(CHANNEL_KEYS[ch]!)}</dt><dd>${String(d.stats.byChannel[ch] ?? 0)}</dd></div>`)}
  <div class="figure"><dt>${t('console:groupPending')}</dt><dd>${String(d.stats.pending)}</dd></div>
</dl></section>
<section aria-labelledby="g-req"><h2 id="g-req">${t('console:groupRequests')}</h2>
${d.pending.length
  ? html`<ul class="devices">${d.pending.map((m) => html`<li><p>${m.label}</p>${button('approve', t('console:approve'), m.membershipId)} ${button('refuse', t('console:refuse'), m.membershipId)}</li>`)}</ul>`
  : html`<p class="muted">${t('console:groupNoRequests')}</p>`}
</section>
<section aria-labelledby="g-members"><h2 id="g-members">${t('console:groupMembers')}</h2>
<p class="muted">${t('console:groupPrivacy')}</p>
<ul class="devices">${d.members.map(
  (m) => html`<li><p><strong>${m.label}</strong> · ${t(ROLE_KEYS[m.role] ?? 'groups:role_member')}${m.channel ? html` · <span class="muted">${t(CHANNEL_KEYS[m.channel] ?? 'console:chWeb')}</span>` : ''}</p>
${d.canAppointDeputy && m.role === 'member' ? button('deputy', t('console:makeDeputy'), m.membershipId) : ''}
${d.canAppointDeputy && m.role === 'deputy' ? button('undeputy', t('console:removeDeputy'), m.membershipId) : ''}
${m.role !== 'leader' ? button('remove', t('console:removeMember'), m.membershipId) : ''}</li>`,
)}</ul>
</section>
<section aria-labelledby="g-invite"><h2 id="g-invite">${t('console:inviteTitle')}</h2>
<p>${t('console:inviteCode')} <strong class="code">${d.inviteCode}</strong></p>
${button('rotate', t('console:rotateInvite'))}
</section>
<section aria-labelledby="g-notice"><h2 id="g-notice">${t('console:noticeTitle')}</h2>
<form method="post" action="/console/groups/${d.group.id}/act" class="action" novalidate>
  <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="action" value="notice">
  <label for="g-notice-text">${t('console:noticeField')}</label>
  <textarea id="g-notice-text" name="text" rows="4" maxlength="${d.maxNotice}"${d.noticeError ? html` aria-invalid="true" aria-describedby="g-notice-error"` : ''}>${d.noticeError?.value ?? ''}</textarea>
  ${d.noticeError ? html`<p class="field-error" id="g-notice-error" role="alert">${d.noticeError.text}</p>` : ''}
  <button type="submit">${t('console:noticeSend')}</button>
</form></section>`;
  return layout({ ...frame, current: 'groups' }, body);
}
