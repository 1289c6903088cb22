/**
 * /cases for leaders and officers: the queue, one case with the actions allowed now,
 * and a compose step for questions, notes, resolutions and duplicates.
 */
import { choiceStep, pagedChoices, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import type { CaseAction } from '../authz/policy.js';
import { MAX_DESCRIPTION } from './report.flow.js';

const ACTION_LABELS: Partial<Record<CaseAction, string>> = {
  'case.acknowledge': 'cases:actAcknowledge',
  'case.ask': 'cases:actAsk',
  'case.note': 'cases:actNote',
  'case.resolve': 'cases:actResolve',
  'case.duplicate': 'cases:actDuplicate',
  'case.escalate': 'cases:actEscalate',
  'case.reopen': 'cases:actReopen',
};

const COMPOSE_PROMPTS: Record<string, string> = {
  'case.ask': 'cases:composeAsk',
  'case.note': 'cases:composeNote',
  'case.resolve': 'cases:composeResolve',
  'case.duplicate': 'cases:composeDuplicate',
};

const caseId = (ctx: FlowContext) => String(ctx.data.caseId ?? '');
const page = (ctx: FlowContext) => (typeof ctx.data.page === 'number' ? ctx.data.page : 0);

const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const queue = await ctx.services.cases.queue(ctx.identity.person.id);
    if (!queue.length) return { text: ctx.t('cases:queueEmpty'), choices: [[{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]] };
    const items: Choice[] = queue.map((c) => ({
      id: `cases:open:${c.id}`,
      label: ctx.t('cases:queueLine', {
        urgent: c.urgent ? '🚨 ' : '',
        ref: c.ref,
        category: ctx.services.cases.categoryText(ctx.t, c),
        status: ctx.services.cases.statusText(ctx.t, c),
      }),
    }));
    return { text: ctx.t('cases:queueTitle', { count: queue.length }), choices: pagedChoices(items, page(ctx), ctx.t) };
  },
  choose(ctx, id) {
    if (id === 'nav:more') {
      ctx.data.page = page(ctx) + 1;
      return { goto: 'list' };
    }
    ctx.data.caseId = id.slice('cases:open:'.length);
    return { goto: 'case' };
  },
});

const caseStep: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const view = await ctx.services.cases.handlerView(ctx.identity.person.id, caseId(ctx), ctx.t, ctx.locale);
    const actions = await ctx.services.cases.handlerActions(ctx.identity.person.id, view.case);
    const choices: Choice[][] = actions.map((a) => [{ id: `cases:do:${a}`, label: ctx.t(ACTION_LABELS[a]!) }]);
    choices.push([{ id: 'cases:list', label: ctx.t('cases:backToList') }]);
    return { text: view.text, choices, photo: view.photoMediaId ? { mediaId: view.photoMediaId } : undefined };
  },
  async choose(ctx, id): Promise<StepOutcome> {
    if (id === 'cases:list') return { goto: 'list' };
    const action = id.slice('cases:do:'.length) as CaseAction;
    const me = ctx.identity.person.id;
    const cases = ctx.services.cases;
    if (COMPOSE_PROMPTS[action]) {
      ctx.data.action = action;
      return { goto: 'compose' };
    }
    if (action === 'case.acknowledge') {
      const c = await cases.acknowledge(me, caseId(ctx));
      return { goto: 'case', say: [{ text: ctx.t('cases:doneAcknowledge', { ref: c.ref }) }] };
    }
    if (action === 'case.escalate') {
      const after = await cases.escalate(me, caseId(ctx));
      return { goto: 'case', say: [{ text: ctx.t('cases:doneEscalate', { ref: after.ref, level: await cases.levelText(after, ctx.t) }) }] };
    }
    if (action === 'case.reopen') {
      const c = await cases.reopen(me, caseId(ctx));
      return { goto: 'case', say: [{ text: ctx.t('cases:doneReopen', { ref: c.ref }) }] };
    }
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

const compose: Step = textStep({
  async prompt(ctx) {
    const c = await ctx.services.cases.handlerView(ctx.identity.person.id, caseId(ctx), ctx.t, ctx.locale);
    return { text: ctx.t(COMPOSE_PROMPTS[String(ctx.data.action)] ?? 'cases:composeNote', { ref: c.case.ref }), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] };
  },
  maxLength: MAX_DESCRIPTION,
  async text(ctx, text) {
    const me = ctx.identity.person.id;
    const cases = ctx.services.cases;
    const id = caseId(ctx);
    switch (ctx.data.action) {
      case 'case.ask': {
        const c = await cases.ask(me, id, text);
        return { goto: 'case', say: [{ text: ctx.t('cases:doneAsk', { ref: c.ref }) }] };
      }
      case 'case.resolve': {
        const c = await cases.resolve(me, id, text);
        return { goto: 'case', say: [{ text: ctx.t('cases:doneResolve', { ref: c.ref }) }] };
      }
      case 'case.duplicate': {
        const c = await cases.markDuplicate(me, id, text);
        return { goto: 'case', say: [{ text: ctx.t('cases:doneDuplicate', { ref: c.ref }) }] };
      }
      default:
        await cases.note(me, id, text);
        return { goto: 'case', say: [{ text: ctx.t('cases:doneNote') }] };
    }
  },
  choose: (ctx, id) => (id === 'nav:back' ? { goto: 'case' } : { retry: { text: ctx.t('common:chooseFromList') } }),
});

export const casesFlow: Flow = { name: 'cases', first: 'list', steps: { list, case: caseStep, compose } };

