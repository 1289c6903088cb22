/** /myreports: the resident's own cases, their status and thread, adding information, "fixed?". */
import { choiceStep, pagedChoices, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import { MAX_DESCRIPTION } from './report.flow.js';

const caseId = (ctx: FlowContext) => String(ctx.data.caseId ?? '');
const page = (ctx: FlowContext) => (typeof ctx.data.page === 'number' ? ctx.data.page : 0);

const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const mine = await ctx.services.cases.mine(ctx.identity.person.id);
    if (!mine.length) return { text: ctx.t('cases:myEmpty'), choices: [[{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]] };
    const items: Choice[] = mine.map((c) => ({
      id: `my:open:${c.id}`,
      label: ctx.t('cases:myLine', { ref: c.ref, category: ctx.services.cases.categoryText(ctx.t, c), status: ctx.services.cases.reporterStatusText(ctx.t, c) }),
    }));
    // A way back on every page: on Zalo the list is otherwise a dead end.
    const rows = pagedChoices(items, page(ctx), ctx.t);
    rows.push([{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]);
    return { text: ctx.t('cases:myTitle'), choices: rows };
  },
  choose(ctx, id) {
    if (id === 'nav:more') {
      ctx.data.page = page(ctx) + 1;
      return { goto: 'list' };
    }
    ctx.data.caseId = id.slice('my:open:'.length);
    return { goto: 'case' };
  },
});

const caseStep: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const me = ctx.identity.person.id;
    const view = await ctx.services.cases.reporterView(me, caseId(ctx), ctx.t, ctx.locale);
    const actions = await ctx.services.cases.reporterActions(me, view.case);
    const choices: Choice[][] = [];
    if (actions.includes('case.addInfo')) choices.push([{ id: 'my:add', label: ctx.t('cases:addInfo') }]);
    if (actions.includes('case.confirmFixed')) {
      choices.push([{ id: 'my:fixed', label: ctx.t('cases:fixedButton') }, { id: 'my:notfixed', label: ctx.t('cases:notFixedButton') }]);
    }
    choices.push([{ id: 'my:list', label: ctx.t('cases:backToList') }]);
    return { text: view.text, choices };
  },
  async choose(ctx, id) {
    if (id === 'my:list') return { goto: 'list' };
    if (id === 'my:add') return { goto: 'addInfo' };
    const fixed = id === 'my:fixed';
    const c = await ctx.services.cases.confirmFixed(ctx.identity.person.id, caseId(ctx), fixed);
    return { end: true, say: [{ text: ctx.t(fixed ? 'cases:thanksFixed' : 'cases:thanksNotFixed', { ref: c.ref }) }] };
  },
});

/**
 * Text or a photo (with or without caption) for the handlers, into the case thread. A bare number
 * is text here (a house number), not a pick.
 */
function messageStep(keys: { ask: string; sent: string }, choices: (ctx: FlowContext) => Choice[][], back: (ctx: FlowContext, id: string) => StepOutcome | undefined): Step {
  return {
    textInput: true,
    async prompt(ctx) {
      const c = await ctx.services.cases.reporterView(ctx.identity.person.id, caseId(ctx), ctx.t, ctx.locale);
      return { text: ctx.t(keys.ask, { ref: c.case.ref }), choices: choices(ctx) };
    },
    async handle(ctx, input) {
      if (input.kind === 'choice') return back(ctx, input.choice) ?? { retry: { text: ctx.t('common:chooseFromList') } };
      let text: string;
      let photoMediaId: string | undefined;
      if (input.kind === 'text') text = input.text.trim();
      else if (input.kind === 'photo') {
        try {
          photoMediaId = await ctx.services.media.adopt(ctx.identity.account.channel as 'telegram' | 'zalo' | 'web', input.photo, ctx.identity.person.id);
        } catch {
          return { retry: { text: ctx.t('report:photoFailed') } };
        }
        text = (input.caption ?? '').trim() || '📷';
      } else return { retry: { text: ctx.t('common:unsupported') } };
      if (!text) return { retry: { text: ctx.t('common:emptyText') } };
      if (text.length > MAX_DESCRIPTION) return { retry: { text: ctx.t('common:tooLong', { length: text.length, max: MAX_DESCRIPTION }) } };
      const c = await ctx.services.cases.reporterMessage(ctx.identity.person.id, caseId(ctx), text, photoMediaId);
      return { end: true, say: [{ text: ctx.t(keys.sent, { ref: c.ref }) }] };
    },
  };
}

const addInfo: Step = messageStep(
  { ask: 'cases:addInfoAsk', sent: 'cases:addInfoSent' },
  (ctx) => [[{ id: 'nav:back', label: ctx.t('common:back') }]],
  (_ctx, id) => (id === 'nav:back' ? { goto: 'case' } : undefined),
);

/** "Trả lời" on a handler's question: the prompt speaks of answering, not of adding information. */
const reply: Step = messageStep(
  { ask: 'cases:replyAsk', sent: 'cases:replySent' },
  (ctx) => [[{ id: 'nav:back', label: ctx.t('common:back') }]],
  (_ctx, id) => (id === 'nav:back' ? { goto: 'case' } : undefined),
);

/** Right after "Need help" on an alert: where the person is and what they need, for the handlers. */
const helpDetails: Step = messageStep(
  { ask: 'alerts:helpAskDetails', sent: 'alerts:helpDetailsSent' },
  (ctx) => [[{ id: 'my:later', label: ctx.t('menu:backToMenu') }]],
  (_ctx, id) => (id === 'my:later' ? { end: true } : undefined),
);

export const myReportsFlow: Flow = { name: 'myreports', first: 'list', steps: { list, case: caseStep, addInfo, reply, helpDetails } };
