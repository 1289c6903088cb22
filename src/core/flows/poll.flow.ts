/**
 * /poll: ask members a question ("dân bàn"): target groups, kind (one choice, several choices,
 * a short free answer), the question, the options (2-8, one per line), the closing time, anonymous
 * or not, a preview exactly as members will read it, and confirm. Nothing is created before
 * confirm, and the service checks everything again then.
 * `poll-answer`: picking several options, or typing a free answer, to a poll one received.
 */
import { randomUUID } from 'node:crypto';
import { choiceStep, pagedChoices, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import { DomainError } from '../errors.js';
import { parseDuration } from '../services/alert.catalog.js';
import { MAX_FREE_ANSWER, MAX_QUESTION, isPollKind, optionsProblem, parseClosingTime, splitOptions, type PollDraft, type PollKind } from '../services/poll.service.js';

const DAY = 86_400_000;

interface Draft {
  groupIds?: string[];
  kind?: PollKind;
  question?: string;
  options?: string[];
  /** ISO time (the flow data is JSON). */
  closesAt?: string;
  anonymous?: boolean;
  draftKey?: string;
  page?: number;
}
const draft = (ctx: FlowContext) => {
  const d = ctx.data as Draft;
  d.draftKey ??= randomUUID();
  return d;
};

const refusal = (ctx: FlowContext, error: DomainError): StepOutcome => ({ retry: { text: ctx.t(error.code, error.params) } });

const groups: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = draft(ctx);
    const selected = new Set(d.groupIds ?? []);
    const askable = await ctx.services.polls.askableGroups(ctx.identity.person.id);
    const items: Choice[] = askable.map((g) => ({
      id: `poll:g:${g.id}`,
      label: ctx.t(selected.has(g.id) ? 'polls:groupChecked' : 'polls:groupUnchecked', { group: `${g.name} (${g.area.name})` }),
    }));
    const rows = pagedChoices(items, d.page ?? 0, ctx.t);
    if (askable.length > 1) rows.push([{ id: 'poll:g:all', label: ctx.t('polls:allGroups', { count: askable.length }) }]);
    rows.push([{ id: 'poll:g:done', label: ctx.t('polls:groupsDone') }]);
    return { text: ctx.t('polls:chooseGroups'), choices: rows };
  },
  async choose(ctx, id) {
    const d = draft(ctx);
    const selected = new Set(d.groupIds ?? []);
    if (id === 'nav:more') d.page = (d.page ?? 0) + 1;
    else if (id === 'poll:g:all') (await ctx.services.polls.askableGroups(ctx.identity.person.id)).forEach((g) => selected.add(g.id));
    else if (id === 'poll:g:done') {
      if (!selected.size) return { retry: { text: ctx.t('polls:noGroups') } };
      return { goto: 'kind' };
    } else {
      const groupId = id.slice('poll:g:'.length);
      if (selected.has(groupId)) selected.delete(groupId);
      else selected.add(groupId);
    }
    d.groupIds = [...selected];
    return { goto: 'groups' };
  },
});

const kind: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('polls:chooseKind'),
    choices: [
      [{ id: 'poll:kind:single', label: ctx.t('polls:kindSingle') }],
      [{ id: 'poll:kind:multiple', label: ctx.t('polls:kindMultiple') }],
      [{ id: 'poll:kind:free', label: ctx.t('polls:kindFree') }],
    ],
  }),
  choose(ctx, id) {
    const value = id.slice('poll:kind:'.length);
    if (!isPollKind(value)) return { retry: { text: ctx.t('common:chooseFromList') } };
    draft(ctx).kind = value;
    return { goto: 'question' };
  },
});

const question: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('polls:askQuestion', { max: MAX_QUESTION }) }),
  maxLength: MAX_QUESTION,
  text(ctx, text) {
    const d = draft(ctx);
    d.question = text;
    return { goto: d.kind === 'free' ? 'closes' : 'options' };
  },
});

const options: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('polls:askOptions') }),
  maxLength: 1000,
  text(ctx, typed) {
    const list = splitOptions(typed);
    const problem = optionsProblem(list);
    if (problem) return refusal(ctx, problem);
    draft(ctx).options = list;
    return { goto: 'closes' };
  },
});

const CLOSING_CHOICES: Array<[string, string, number]> = [
  ['poll:close:1d', 'polls:close1d', DAY],
  ['poll:close:3d', 'polls:close3d', 3 * DAY],
  ['poll:close:7d', 'polls:close7d', 7 * DAY],
];

const closes: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('polls:askClosing'), choices: CLOSING_CHOICES.map(([id, key]) => [{ id, label: ctx.t(key) }]) }),
  maxLength: 40,
  numbersPick: true,
  text(ctx, typed) {
    const now = ctx.services.polls.now();
    const ms = parseDuration(typed);
    const at = ms ? new Date(now.getTime() + ms) : parseClosingTime(typed, now);
    if (!at) return { retry: { text: ctx.t('polls:closingInvalid', { typed }) } };
    return setClosing(ctx, at);
  },
  choose(ctx, id) {
    const found = CLOSING_CHOICES.find(([cid]) => cid === id);
    if (!found) return { retry: { text: ctx.t('common:chooseFromList') } };
    return setClosing(ctx, new Date(ctx.services.polls.now().getTime() + found[2]));
  },
});

function setClosing(ctx: FlowContext, at: Date): StepOutcome {
  try {
    ctx.services.polls.checkClosing(at);
  } catch (error) {
    if (error instanceof DomainError) return refusal(ctx, error);
    throw error;
  }
  draft(ctx).closesAt = at.toISOString();
  return { goto: 'anonymity' };
}

const anonymity: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('polls:askAnonymous'),
    choices: [[{ id: 'poll:anon:yes', label: ctx.t('polls:anonymousYes') }], [{ id: 'poll:anon:no', label: ctx.t('polls:anonymousNo') }]],
  }),
  choose(ctx, id) {
    draft(ctx).anonymous = id !== 'poll:anon:no';
    return { goto: 'preview' };
  },
});

function toDraft(d: Draft): PollDraft {
  return {
    groupIds: d.groupIds ?? [],
    kind: d.kind ?? 'single',
    question: d.question ?? '',
    options: d.options ?? [],
    closesAt: new Date(d.closesAt ?? 0),
    anonymous: d.anonymous ?? true,
    draftKey: d.draftKey,
  };
}

const preview: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = toDraft(draft(ctx));
    const shown = await ctx.services.polls.preview(d, ctx.t, ctx.locale);
    const audience = await ctx.services.polls.audienceSize(d.groupIds);
    return {
      text: [ctx.t('polls:previewTitle'), '', shown.text, '', ctx.t('polls:previewAudience', { count: audience })].join('\n'),
      choices: [[{ id: 'poll:send', label: ctx.t('polls:send') }], [{ id: 'poll:discard', label: ctx.t('polls:discard') }]],
    };
  },
  async choose(ctx, id) {
    if (id !== 'poll:send') return { end: true, say: [{ text: ctx.t('polls:discarded') }] };
    const { poll, recipients, already } = await ctx.services.polls.create(ctx.identity.person.id, toDraft(draft(ctx)));
    if (already) return { end: true, say: [{ text: ctx.t('polls:alreadySent', { question: poll.question }) }] };
    return { end: true, say: [{ text: ctx.t('polls:sent', { count: recipients }) }] };
  },
});

export const pollFlow: Flow = {
  name: 'poll',
  first: 'groups',
  resumeTitleKey: 'polls:resumeTitle',
  steps: { groups, kind, question, options, closes, anonymity, preview },
};

// --- Answering -------------------------------------------------------------------------

interface AnswerData {
  pollId?: string;
  picked?: number[];
}

/** Several choices: tick options, then send. */
const pick: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = ctx.data as AnswerData;
    const poll = await ctx.services.polls.forViewer(ctx.identity.person.id, d.pollId ?? '');
    const picked = new Set(d.picked ?? []);
    const rows: Choice[][] = ctx.services.polls
      .optionsOf(poll)
      .map((o, i) => [{ id: `poll:pick:${i}`, label: ctx.t(picked.has(i) ? 'polls:optionChecked' : 'polls:optionUnchecked', { option: o }) }]);
    rows.push([{ id: 'poll:pick:done', label: ctx.t('polls:sendAnswer') }]);
    return { text: ctx.t('polls:pickMany', { question: poll.question }), choices: rows };
  },
  async choose(ctx, id) {
    const d = ctx.data as AnswerData;
    if (id === 'poll:pick:done') {
      if (!d.picked?.length) return { retry: { text: ctx.t('polls:pickOne') } };
      const { changed } = await ctx.services.polls.answer(ctx.identity.person.id, d.pollId ?? '', { choices: d.picked });
      return { end: true, say: [{ text: ctx.t(changed ? 'polls:answerChanged' : 'polls:answerRecorded') }] };
    }
    const i = Number(id.slice('poll:pick:'.length));
    const picked = new Set(d.picked ?? []);
    if (picked.has(i)) picked.delete(i);
    else picked.add(i);
    d.picked = [...picked].sort((a, b) => a - b);
    return { goto: 'pick' };
  },
});

/** A short free answer. */
const free: Step = textStep({
  async prompt(ctx): Promise<Outbound> {
    const d = ctx.data as AnswerData;
    const poll = await ctx.services.polls.forViewer(ctx.identity.person.id, d.pollId ?? '');
    return { text: ctx.t('polls:askFree', { question: poll.question, max: MAX_FREE_ANSWER }), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] };
  },
  maxLength: MAX_FREE_ANSWER,
  async text(ctx, text) {
    const d = ctx.data as AnswerData;
    const { changed } = await ctx.services.polls.answer(ctx.identity.person.id, d.pollId ?? '', { text });
    return { end: true, say: [{ text: ctx.t(changed ? 'polls:answerChanged' : 'polls:answerRecorded') }] };
  },
  choose: () => ({ end: true }),
});

/** /polls: the questions of one's groups (open ones to answer, closed ones with their results). */
const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const polls = await ctx.services.polls.listFor(ctx.identity.person.id);
    const rows: Choice[][] = polls.map((p) => [{ id: `p:${p.id}:v`, label: ctx.t(p.open ? 'polls:listOpen' : 'polls:listClosed', { question: p.question.slice(0, 50) }) }]);
    if ((await ctx.services.polls.askableGroups(ctx.identity.person.id)).length) rows.push([{ id: 'poll:new', label: ctx.t('polls:newPoll') }]);
    rows.push([{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]);
    return { text: ctx.t(polls.length ? 'polls:listTitle' : 'polls:listEmpty'), choices: rows };
  },
  choose(ctx, id) {
    if (id === 'poll:new') return { end: true, menu: false, next: { flow: 'poll' } };
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

export const pollAnswerFlow: Flow = { name: 'poll-answer', first: 'pick', steps: { pick, free, list } };
