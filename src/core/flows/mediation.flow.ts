/**
 * /mediation: ask the group's mediation team for help with a dispute (what it is about, then the
 * other party in words or invited with a one-time code, a preview, confirm), see one's requests,
 * and, for the team, propose a session, refer, and record the outcome.
 */
import { randomUUID } from 'node:crypto';
import { choiceStep, textStep, type Flow, type FlowContext, type Step } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import { MAX_AGREEMENT, MAX_PARTY_DESCRIPTION, MAX_SESSION, MAX_SUBJECT, statusKey } from '../services/mediation.service.js';

interface Draft {
  groupId?: string;
  subject?: string;
  otherDescription?: string;
  invite?: boolean;
  draftKey?: string;
  /** Team steps: the request they act on. */
  mediationId?: string;
  outcome?: 'agreed' | 'not_agreed';
}
const draft = (ctx: FlowContext) => {
  const d = ctx.data as Draft;
  d.draftKey ??= randomUUID();
  return d;
};

const group: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const mine = await ctx.services.mediation.groupsFor(ctx.identity.person.id);
    return { text: ctx.t('mediation:chooseGroup'), choices: mine.map((m) => [{ id: `med:g:${m.groupId}`, label: m.group.name }]) };
  },
  choose(ctx, id) {
    draft(ctx).groupId = id.slice('med:g:'.length);
    return { goto: 'subject' };
  },
});

const subject: Step = textStep({
  prompt: (ctx) => {
    const ask = ctx.t('mediation:askSubject', { max: MAX_SUBJECT });
    // Coming from the report flow's neighbour-dispute category: say why mediation is offered.
    return { text: (ctx.data as { fromReport?: boolean }).fromReport ? `${ctx.t('mediation:fromReport')}\n\n${ask}` : ask };
  },
  maxLength: MAX_SUBJECT,
  text(ctx, text) {
    draft(ctx).subject = text;
    return { goto: 'other' };
  },
});

const other: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('mediation:askOther'),
    choices: [[{ id: 'med:other:words', label: ctx.t('mediation:otherWords') }], [{ id: 'med:other:invite', label: ctx.t('mediation:otherInvite') }]],
  }),
  choose(ctx, id) {
    const d = draft(ctx);
    if (id === 'med:other:invite') {
      d.invite = true;
      d.otherDescription = undefined;
      return { goto: 'confirm' };
    }
    d.invite = false;
    return { goto: 'describe' };
  },
});

const describe: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('mediation:askDescribe', { max: MAX_PARTY_DESCRIPTION }) }),
  maxLength: MAX_PARTY_DESCRIPTION,
  text(ctx, text) {
    if (text.replace(/[^\p{L}]/gu, '').length < 3) return { retry: { text: ctx.t('mediation:noOtherParty') } };
    draft(ctx).otherDescription = text;
    return { goto: 'confirm' };
  },
});

const confirm: Step = choiceStep({
  prompt(ctx): Outbound {
    const d = draft(ctx);
    return {
      text: [
        ctx.t('mediation:previewTitle'),
        ctx.t('mediation:teamSubject', { text: d.subject ?? '' }),
        d.invite ? ctx.t('mediation:previewInvite') : ctx.t('mediation:teamOtherWords', { text: d.otherDescription ?? '' }),
        ctx.t('mediation:previewPrivacy'),
      ].join('\n'),
      choices: [[{ id: 'med:send', label: ctx.t('mediation:send') }], [{ id: 'med:discard', label: ctx.t('mediation:discard') }]],
    };
  },
  async choose(ctx, id) {
    if (id !== 'med:send') return { end: true, say: [{ text: ctx.t('mediation:discarded') }] };
    const d = draft(ctx);
    const { mediation, code, already } = await ctx.services.mediation.request(ctx.identity.person.id, {
      groupId: d.groupId ?? '',
      subject: d.subject ?? '',
      otherDescription: d.otherDescription,
      invite: d.invite,
      draftKey: d.draftKey,
    });
    if (already) return { end: true, say: [{ text: ctx.t('mediation:alreadySent', { ref: mediation.ref }) }] };
    const say: Outbound[] = [{ text: ctx.t('mediation:sent', { ref: mediation.ref }) }];
    if (code) say.push({ text: ctx.t('mediation:inviteCode', { code }) });
    return { end: true, say };
  },
});

/** /mediation without a code: one's requests (and the team's), and a new request. */
const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const items = await ctx.services.mediation.listFor(ctx.identity.person.id);
    const rows: Choice[][] = items.map((m) => [{ id: `m:${m.id}:v`, label: ctx.t('mediation:listItem', { ref: m.ref, status: ctx.t(statusKey(m.status)) }) }]);
    rows.push([{ id: 'med:new', label: ctx.t('mediation:newRequest') }], [{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]);
    return { text: ctx.t(items.length ? 'mediation:listTitle' : 'mediation:listEmpty'), choices: rows };
  },
  async choose(ctx, id) {
    if (id !== 'med:new') return { retry: { text: ctx.t('common:chooseFromList') } };
    const mine = await ctx.services.mediation.groupsFor(ctx.identity.person.id);
    if (!mine.length) return { end: true, say: [{ text: ctx.t('mediation:notMember') }] };
    if (mine.length === 1) {
      draft(ctx).groupId = mine[0]!.groupId;
      return { goto: 'subject' };
    }
    return { goto: 'group' };
  },
});

// --- The team's steps -----------------------------------------------------------------

const propose: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('mediation:askSession', { max: MAX_SESSION }), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: MAX_SESSION,
  async text(ctx, text) {
    const m = await ctx.services.mediation.propose(ctx.identity.person.id, draft(ctx).mediationId ?? '', text);
    return { end: true, say: [{ text: ctx.t('mediation:proposed', { ref: m.ref }) }] };
  },
  choose: () => ({ end: true }),
});

const refer: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('mediation:askReferReason'), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: 500,
  async text(ctx, text) {
    const { mediation, caseRef } = await ctx.services.mediation.refer(ctx.identity.person.id, draft(ctx).mediationId ?? '', text);
    return { end: true, say: [{ text: ctx.t('mediation:referredDone', { ref: mediation.ref, caseRef: caseRef ?? '—' }) }] };
  },
  choose: () => ({ end: true }),
});

const outcome: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('mediation:askOutcome'),
    choices: [[{ id: 'med:out:agreed', label: ctx.t('mediation:outcome_agreed') }], [{ id: 'med:out:not_agreed', label: ctx.t('mediation:outcome_not_agreed') }], [{ id: 'nav:back', label: ctx.t('common:back') }]],
  }),
  async choose(ctx, id) {
    if (id === 'nav:back') return { end: true };
    const d = draft(ctx);
    if (id === 'med:out:agreed') {
      d.outcome = 'agreed';
      return { goto: 'agreement' };
    }
    const m = await ctx.services.mediation.conclude(ctx.identity.person.id, d.mediationId ?? '', 'not_agreed');
    return { end: true, say: [{ text: ctx.t('mediation:concludedDone', { ref: m.ref }) }] };
  },
});

const agreement: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('mediation:askAgreement', { max: MAX_AGREEMENT }), choices: [[{ id: 'med:noText', label: ctx.t('common:skip') }]] }),
  maxLength: MAX_AGREEMENT,
  async text(ctx, text) {
    const m = await ctx.services.mediation.conclude(ctx.identity.person.id, draft(ctx).mediationId ?? '', 'agreed', text);
    return { end: true, say: [{ text: ctx.t('mediation:concludedDone', { ref: m.ref }) }] };
  },
  async choose(ctx) {
    const m = await ctx.services.mediation.conclude(ctx.identity.person.id, draft(ctx).mediationId ?? '', 'agreed');
    return { end: true, say: [{ text: ctx.t('mediation:concludedDone', { ref: m.ref }) }] };
  },
});

export const mediationFlow: Flow = {
  name: 'mediation',
  first: 'list',
  resumeTitleKey: 'mediation:resumeTitle',
  steps: { list, group, subject, other, describe, confirm, propose, refer, outcome, agreement },
};

/**
 * A new request straight away, for a group already known: what the report flow's neighbour-dispute
 * category offers instead of a report (`next: { flow: 'mediation-request', data: { groupId, fromReport: true } }`).
 */
export const mediationRequestFlow: Flow = {
  name: 'mediation-request',
  first: 'subject',
  resumeTitleKey: 'mediation:resumeTitle',
  steps: { subject, other, describe, confirm },
};
