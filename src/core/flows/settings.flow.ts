/** Settings: language, "what do you store about me", linking another app, deleting one's data. */
import { choiceStep, textStep, type Flow, type FlowContext, type Step } from '../flow.js';
import { formatDate, formatPhone } from '../format.js';
import { normalisePhone } from '../services/people.service.js';
import { SUMMARY_ITEMS, type StoredSummary } from '../services/personal-data.service.js';
import { statusKey as mediationStatusKey } from '../services/mediation.service.js';

/** How the person's messaging accounts are named in "what is stored": the apps by their names, the web chat in words. */
const channelName = (ctx: FlowContext, channel: string) => (channel === 'telegram' ? 'Telegram' : channel === 'zalo' ? 'Zalo' : ctx.t('settings:channelWeb'));

async function storedText(ctx: FlowContext): Promise<string> {
  const s = await ctx.services.personalData.summary(ctx.identity.person.id);
  const none = ctx.t('settings:none');
  const stored = ctx.t('settings:stored', {
    name: s.displayName ?? none,
    phone: s.phone ? formatPhone(s.phone) : none,
    locale: ctx.t(s.locale === 'en' ? 'settings:localeEn' : 'settings:localeVi'),
    since: formatDate(s.since, ctx.locale),
    accounts: s.accounts.map((a) => channelName(ctx, a.channel) + (a.username ? ` (@${a.username})` : '')).join(', ') || none,
    groups:
      s.groups
        .map((g) =>
          ctx.t(g.shareContact ? 'settings:groupShared' : 'settings:groupPrivate', {
            name: g.name,
            state: ctx.t(g.state === 'pending' ? 'groups:state_pending' : 'groups:state_active'),
          }),
        )
        .join('; ') || none,
    reports: s.reports,
    anonymous: s.anonymousReports,
    messages: s.messages,
    answers: s.alertAnswers,
  });
  // Consultations, forums and mediation, before the last line (how to delete it all).
  const cut = stored.lastIndexOf('\n');
  return cut < 0 ? `${stored}\n${participationText(ctx, s)}` : `${stored.slice(0, cut)}\n${participationText(ctx, s)}${stored.slice(cut)}`;
}

function participationText(ctx: FlowContext, s: StoredSummary): string {
  const none = ctx.t('settings:none');
  const list = (items: string[]) => {
    if (!items.length) return none;
    const shown = items.slice(0, SUMMARY_ITEMS).join(', ');
    return `${items.length}: ${shown}${items.length > SUMMARY_ITEMS ? ` ${ctx.t('settings:storedMore', { count: items.length - SUMMARY_ITEMS })}` : ''}`;
  };
  return ctx.t('settings:storedParticipation', {
    polls: list(s.pollAnswers.map((a) => ctx.t(a.open ? 'settings:storedPollOpen' : 'settings:storedPollClosed', { question: a.question }))),
    opinions: list(s.forumOpinions.map((o) => ctx.t(o.anonymous ? 'settings:storedOpinionAnonymous' : 'settings:storedOpinionSigned', { topic: o.topic }))),
    mediations: list(
      s.mediations.map((m) => ctx.t(m.asRequester ? 'settings:storedMediationAsked' : 'settings:storedMediationInvited', { ref: m.ref, status: ctx.t(mediationStatusKey(m.status)) })),
    ),
  });
}

const menu: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('settings:title'),
    choices: [
      [{ id: 'set:lang', label: ctx.t('settings:language') }],
      [{ id: 'set:stored', label: ctx.t('settings:whatStored') }],
      [{ id: 'set:phone', label: ctx.t('settings:phone') }],
      [{ id: 'set:link', label: ctx.t('settings:linkCreate') }],
      [{ id: 'set:enter', label: ctx.t('settings:linkEnter') }],
      [{ id: 'set:delete', label: ctx.t('settings:deleteMe') }],
      [{ id: 'set:monthly', label: ctx.t(ctx.identity.person.monthlyAccountOff ? 'account:settingsOff' : 'account:settingsOn') }],
      [{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }],
    ],
  }),
  async choose(ctx, id) {
    switch (id) {
      case 'set:lang':
        return { end: true, menu: false, next: { flow: 'language' } };
      case 'set:stored':
        return { goto: 'menu', say: [{ text: await storedText(ctx) }] };
      case 'set:link': {
        const { code } = await ctx.services.links.create(ctx.identity.person.id);
        return { goto: 'menu', say: [{ text: ctx.t('settings:linkCode', { code }) }] };
      }
      case 'set:enter':
        return { goto: 'linkCode' };
      case 'set:phone':
        return { goto: 'phone' };
      case 'set:delete':
        return { goto: 'deleteConfirm' };
      case 'set:monthly': {
        // The monthly account ("dân kiểm tra, dân giám sát") can be turned off and on again.
        const off = !ctx.identity.person.monthlyAccountOff;
        await ctx.services.monthlyAccount.setOff(ctx.identity.person.id, off);
        ctx.identity.person.monthlyAccountOff = off;
        return { goto: 'menu', say: [{ text: ctx.t(off ? 'account:turnedOff' : 'account:turnedOn') }] };
      }
      default:
        return { retry: { text: ctx.t('common:chooseFromList') } };
    }
  },
});

const linkCode: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('settings:linkAsk'), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: 32,
  async text(ctx, typed) {
    await ctx.services.links.redeem(ctx.identity.account.id, typed);
    return { end: true, say: [{ text: ctx.t('settings:linkDone') }] };
  },
  choose: () => ({ goto: 'menu' }),
});

const deleteConfirm: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('settings:deleteConfirm'),
    choices: [[{ id: 'set:delete:yes', label: ctx.t('settings:deleteYes') }], [{ id: 'set:delete:no', label: ctx.t('settings:deleteNo') }]],
  }),
  async choose(ctx, id) {
    if (id !== 'set:delete:yes') return { end: true, say: [{ text: ctx.t('settings:kept') }] };
    await ctx.services.personalData.erase(ctx.identity.person.id, ctx.t('settings:deletedPerson'));
    ctx.erased();
    return { end: true, menu: false, say: [{ text: ctx.t('settings:deleted') }] };
  },
});

/** The phone number: Telegram's contact button, or typed on any channel; removable. */
const phone: Step = {
  prompt: (ctx) => {
    const rows = [];
    if (ctx.identity.person.phone) rows.push([{ id: 'set:phone:remove', label: ctx.t('settings:phoneRemove') }]);
    rows.push([{ id: 'nav:back', label: ctx.t('common:back') }]);
    return { text: ctx.t('settings:phoneAsk', { phone: ctx.identity.person.phone ? formatPhone(ctx.identity.person.phone) : ctx.t('settings:none') }), choices: rows, askContact: ctx.t('settings:phoneButton') };
  },
  async handle(ctx, input) {
    const typedLabel = (key: string) => input.kind === 'text' && input.text.trim() === ctx.t(key);
    if ((input.kind === 'choice' && input.choice === 'nav:back') || typedLabel('common:back')) return { goto: 'menu' };
    if ((input.kind === 'choice' && input.choice === 'set:phone:remove') || typedLabel('settings:phoneRemove')) {
      await ctx.services.people.setPhone(ctx.identity.person.id, null);
      ctx.identity.person.phone = null;
      return { goto: 'menu', say: [{ text: ctx.t('settings:phoneRemoved') }] };
    }
    const typed = input.kind === 'contact' ? input.phone : input.kind === 'text' ? input.text : '';
    const number = normalisePhone(typed);
    if (!number) return { retry: { text: ctx.t('settings:phoneInvalid') } };
    await ctx.services.people.setPhone(ctx.identity.person.id, number);
    ctx.identity.person.phone = number;
    return { goto: 'menu', say: [{ text: ctx.t('settings:phoneSaved', { phone: formatPhone(number) }) }] };
  },
};

export const settingsFlow: Flow = { name: 'settings', first: 'menu', steps: { menu, linkCode, deleteConfirm, phone } };
