/**
 * Listening forums: /forum opens one (groups, topic, how long, confirm); `forum-say` sends an
 * opinion (anonymous or signed, then the text); `forum-handle` answers opinions publicly by their
 * numbers, or closes the forum with a summary; /forums lists what one may take part in or handle.
 */
import { randomUUID } from 'node:crypto';
import { choiceStep, pagedChoices, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import { DomainError } from '../errors.js';
import { parseDuration } from '../services/alert.catalog.js';
import { parseClosingTime } from '../services/poll.service.js';
import { MAX_FORUM_ANSWER, MAX_OPINION, MAX_SUMMARY, MAX_TOPIC } from '../services/forum.service.js';

const DAY = 86_400_000;

interface Data {
  groupIds?: string[];
  topic?: string;
  closesAt?: string;
  draftKey?: string;
  page?: number;
  forumId?: string;
  anonymous?: boolean;
  numbers?: number[];
}
const data = (ctx: FlowContext) => {
  const d = ctx.data as Data;
  d.draftKey ??= randomUUID();
  return d;
};

const groups: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = data(ctx);
    const selected = new Set(d.groupIds ?? []);
    const askable = await ctx.services.polls.askableGroups(ctx.identity.person.id);
    const items: Choice[] = askable.map((g) => ({ id: `forum:g:${g.id}`, label: ctx.t(selected.has(g.id) ? 'polls:groupChecked' : 'polls:groupUnchecked', { group: `${g.name} (${g.area.name})` }) }));
    const rows = pagedChoices(items, d.page ?? 0, ctx.t);
    rows.push([{ id: 'forum:g:done', label: ctx.t('polls:groupsDone') }]);
    return { text: ctx.t('forums:chooseGroups'), choices: rows };
  },
  choose(ctx, id) {
    const d = data(ctx);
    const selected = new Set(d.groupIds ?? []);
    if (id === 'nav:more') d.page = (d.page ?? 0) + 1;
    else if (id === 'forum:g:done') {
      if (!selected.size) return { retry: { text: ctx.t('polls:noGroups') } };
      return { goto: 'topic' };
    } else {
      const groupId = id.slice('forum:g:'.length);
      if (selected.has(groupId)) selected.delete(groupId);
      else selected.add(groupId);
    }
    d.groupIds = [...selected];
    return { goto: 'groups' };
  },
});

const topic: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askTopic', { max: MAX_TOPIC }) }),
  maxLength: MAX_TOPIC,
  text(ctx, text) {
    data(ctx).topic = text;
    return { goto: 'closes' };
  },
});

const PERIODS: Array<[string, string, number]> = [
  ['forum:p:3d', 'forums:period3d', 3 * DAY],
  ['forum:p:7d', 'forums:period7d', 7 * DAY],
  ['forum:p:14d', 'forums:period14d', 14 * DAY],
];

function setClosing(ctx: FlowContext, at: Date): StepOutcome {
  const left = at.getTime() - ctx.services.forums.now().getTime();
  if (left < 3_600_000) return { retry: { text: ctx.t('forums:closesTooSoon') } };
  data(ctx).closesAt = at.toISOString();
  return { goto: 'confirm' };
}

const closes: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askPeriod'), choices: PERIODS.map(([id, key]) => [{ id, label: ctx.t(key) }]) }),
  maxLength: 40,
  numbersPick: true,
  text(ctx, typed) {
    const now = ctx.services.forums.now();
    const ms = parseDuration(typed);
    const at = ms ? new Date(now.getTime() + ms) : parseClosingTime(typed, now);
    if (!at) return { retry: { text: ctx.t('polls:closingInvalid', { typed }) } };
    return setClosing(ctx, at);
  },
  choose(ctx, id) {
    const found = PERIODS.find(([pid]) => pid === id);
    if (!found) return { retry: { text: ctx.t('common:chooseFromList') } };
    return setClosing(ctx, new Date(ctx.services.forums.now().getTime() + found[2]));
  },
});

const confirm: Step = choiceStep({
  prompt(ctx): Outbound {
    const d = data(ctx);
    return {
      text: ctx.t('forums:preview', { topic: d.topic ?? '', count: d.groupIds?.length ?? 0 }),
      choices: [[{ id: 'forum:open', label: ctx.t('forums:openButton') }], [{ id: 'forum:discard', label: ctx.t('polls:discard') }]],
    };
  },
  async choose(ctx, id) {
    if (id !== 'forum:open') return { end: true, say: [{ text: ctx.t('polls:discarded') }] };
    const d = data(ctx);
    const { forum, recipients, already } = await ctx.services.forums.open(ctx.identity.person.id, {
      groupIds: d.groupIds ?? [],
      topic: d.topic ?? '',
      closesAt: new Date(d.closesAt ?? 0),
      draftKey: d.draftKey,
    });
    return { end: true, say: [{ text: ctx.t(already ? 'forums:alreadyOpen' : 'forums:opened', { topic: forum.topic, count: recipients }) }] };
  },
});

export const forumFlow: Flow = { name: 'forum', first: 'groups', resumeTitleKey: 'forums:resumeTitle', steps: { groups, topic, closes, confirm } };

// --- Taking part --------------------------------------------------------------------------

const anonymity: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const f = await ctx.services.forums.forParticipant(ctx.identity.person.id, (ctx.data as Data).forumId ?? '');
    return {
      text: ctx.t('forums:askAnonymous', { topic: f.topic }),
      choices: [[{ id: 'forum:anon:yes', label: ctx.t('forums:anonymousYes') }], [{ id: 'forum:anon:no', label: ctx.t('forums:anonymousNo') }]],
    };
  },
  choose(ctx, id) {
    (ctx.data as Data).anonymous = id !== 'forum:anon:no';
    return { goto: 'opinion' };
  },
});

const opinion: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askOpinion', { max: MAX_OPINION }) }),
  maxLength: MAX_OPINION,
  async text(ctx, text) {
    const d = ctx.data as Data;
    await ctx.services.forums.say(ctx.identity.person.id, d.forumId ?? '', text, d.anonymous ?? true);
    return { end: true, say: [{ text: ctx.t('forums:opinionRecorded') }] };
  },
});

/** /forums: open forums of one's groups, and the ones one handles. */
const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const me = ctx.identity.person.id;
    const [open, handled] = await Promise.all([ctx.services.forums.openFor(me), ctx.services.forums.handledBy(me)]);
    const rows: Choice[][] = [
      ...open.map((f) => [{ id: `f:${f.id}:say`, label: ctx.t('forums:listSay', { topic: f.topic.slice(0, 50) }) }]),
      ...handled.map((f) => [{ id: `f:${f.id}:h`, label: ctx.t('forums:listHandle', { topic: f.topic.slice(0, 50) }) }]),
    ];
    if ((await ctx.services.polls.askableGroups(me)).length) rows.push([{ id: 'forum:new', label: ctx.t('forums:newForum') }]);
    rows.push([{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]);
    return { text: ctx.t(open.length || handled.length ? 'forums:listTitle' : 'forums:listEmpty'), choices: rows };
  },
  choose(ctx, id) {
    if (id === 'forum:new') return { end: true, menu: false, next: { flow: 'forum' } };
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

export const forumSayFlow: Flow = { name: 'forum-say', first: 'anonymity', steps: { anonymity, opinion, list } };

// --- Handling -----------------------------------------------------------------------------

const pick: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askNumbers'), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: 200,
  text(ctx, typed) {
    const numbers = [...typed.matchAll(/\d+/g)].map((m) => Number(m[0]));
    if (!numbers.length) return { retry: { text: ctx.t('forums:pickNumbers', { max: '…' }) } };
    (ctx.data as Data).numbers = numbers;
    return { goto: 'answer' };
  },
  choose: () => ({ end: true }),
});

const answer: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askAnswer', { max: MAX_FORUM_ANSWER }) }),
  maxLength: MAX_FORUM_ANSWER,
  async text(ctx, text) {
    const d = ctx.data as Data;
    try {
      const n = await ctx.services.forums.answer(ctx.identity.person.id, d.forumId ?? '', d.numbers ?? [], text);
      return { end: true, say: [{ text: ctx.t('forums:answerSent', { count: n }) }] };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'forums:pickNumbers') return { goto: 'pick', say: [{ text: ctx.t(error.code, error.params) }] };
      throw error;
    }
  },
});

const summary: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('forums:askSummary', { max: MAX_SUMMARY }), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: MAX_SUMMARY,
  async text(ctx, text) {
    const f = await ctx.services.forums.close(ctx.identity.person.id, (ctx.data as Data).forumId ?? '', text);
    return { end: true, say: [{ text: ctx.t('forums:closedDone', { topic: f.topic }) }] };
  },
  choose: () => ({ end: true }),
});

export const forumHandleFlow: Flow = { name: 'forum-handle', first: 'pick', steps: { pick, answer, summary } };
