/**
 * Steps that place a person in a residential group: browse the area tree as imported (since
 * 2025: province -> commune/ward -> group; a tree with districts gets one more step), or type an
 * invite code. Shared by onboarding and by /join and /groups.
 */
import { choiceStep, pagedChoices, textStep, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Outbound } from '../messages.js';
import type { Services } from '../services/services.js';
import type { Area, Group } from '../services/db.js';
import { mayJoinByBrowsing } from '../authz/policy.js';
import { normaliseAnswer } from '../choice-match.js';

/** Prompts by kind of level, when the tree does not say what its levels are called (and in English). */
const LEVEL_PROMPT: Record<string, string> = {
  province: 'onboarding:chooseProvince',
  district: 'onboarding:chooseDistrict',
  commune: 'onboarding:chooseWard',
  ward: 'onboarding:chooseWard',
  special: 'onboarding:chooseWard',
};

/**
 * What the listed areas are called, from the tree: "tỉnh/thành phố", "phường/xã/đặc khu".
 * Undefined when the tree gives no names.
 */
function levelWords(children: Area[]): string | undefined {
  const names = [...new Set(children.map((a) => a.levelName?.trim().toLocaleLowerCase('vi')).filter((n): n is string => Boolean(n)))];
  return names.length ? names.join('/') : undefined;
}

/** data.areaPath holds the ids chosen so far (province, then commune/ward, or whatever levels the tree has). */
function areaPath(ctx: FlowContext): string[] {
  return Array.isArray(ctx.data.areaPath) ? (ctx.data.areaPath as string[]) : [];
}

function page(ctx: FlowContext): number {
  return typeof ctx.data.page === 'number' ? ctx.data.page : 0;
}

/**
 * Joins (or asks to join) a group and says what happened, in the person's language.
 * `shareName` is the person's answer to "may the leaders see your name?" (the shareAsk step);
 * without an answer leaders see the member only as a number: privacy is the default.
 */
export async function joinGroupSaying(
  services: Services,
  t: FlowContext['t'],
  personId: string,
  group: Group & { area: Area },
  note?: string,
  shareName = false,
): Promise<Outbound> {
  const { outcome } = await services.groups.join(personId, group, shareName, note);
  const key = { joined: 'onboarding:joined', pending: 'onboarding:joinPending', already: 'onboarding:alreadyMember' }[outcome];
  return { text: t(key, { group: group.name, area: group.area.name }) };
}

/**
 * What joining a group asks before the membership is made: a group by approval first what the
 * person wants its leaders to know (name, house number), so that a leader can judge the request;
 * every group whether its leaders may see the person's name, so that the request (or the member
 * list) shows what the person chose. Someone already in the group, or waiting, is asked nothing.
 */
export async function joinFirstStep(services: Services, personId: string, group: Group): Promise<'joinNote' | 'shareAsk' | undefined> {
  const mine = await services.groups.mine(personId);
  if (mine.some((m) => m.groupId === group.id)) return undefined;
  return group.joinPolicy === 'approval' ? 'joinNote' : 'shareAsk';
}

async function joinGroup(ctx: FlowContext, groupId: string): Promise<StepOutcome> {
  const group = await ctx.services.groups.get(groupId);
  if (!group) return { retry: { text: ctx.t('common:chooseFromList') } };
  const first = await joinFirstStep(ctx.services, ctx.identity.person.id, group);
  if (first) {
    ctx.data.joinGroupId = group.id;
    delete ctx.data.joinNote;
    return { goto: first };
  }
  return { end: true, say: [await joinGroupSaying(ctx.services, ctx.t, ctx.identity.person.id, group)] };
}

/** What to tell the leader who approves the request: typed text (a house number is text), or Skip. */
export const joinNoteStep: Step = textStep({
  async prompt(ctx) {
    const group = await ctx.services.groups.get(String(ctx.data.joinGroupId ?? ''));
    return {
      text: ctx.t('onboarding:joinNoteAsk', { group: group?.name ?? '' }),
      choices: [[{ id: 'join:nonote', label: ctx.t('common:skip') }], [{ id: 'nav:back', label: ctx.t('common:back') }]],
    };
  },
  maxLength: 200,
  text(ctx, typed) {
    ctx.data.joinNote = typed;
    return { goto: 'shareAsk' };
  },
  choose(ctx, id) {
    if (id === 'join:nonote') {
      delete ctx.data.joinNote;
      return { goto: 'shareAsk' };
    }
    if (id === 'nav:back') return { goto: 'place' };
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

const SHARE_CHOICES = [
  { id: 'share:yes', labelKey: 'groups:shareAskYes' },
  { id: 'share:no', labelKey: 'groups:shareAskNo' },
] as const;

/**
 * "May the leaders see your name?", asked as the person joins: a button, its number, its label
 * (with or without accents), or just the answer's first word ("có", "khong", "yes") picks.
 */
export const shareAskStep: Step = textStep({
  async prompt(ctx) {
    const group = await ctx.services.groups.get(String(ctx.data.joinGroupId ?? ''));
    return {
      text: ctx.t('groups:shareAsk', { group: group?.name ?? '' }),
      choices: SHARE_CHOICES.map((c) => [{ id: c.id, label: ctx.t(c.labelKey) }]),
    };
  },
  maxLength: 200,
  // The two answers are the step's choices, not Back or Skip: a typed number picks one.
  numbersPick: true,
  text(ctx, typed) {
    const word = normaliseAnswer(typed);
    const picked = SHARE_CHOICES.find((c) => normaliseAnswer(ctx.t(c.labelKey).split(/[,(]/)[0]!) === word);
    if (!picked) return { retry: { text: ctx.t('common:chooseFromList') } };
    return sendJoin(ctx, picked.id === 'share:yes');
  },
  choose(ctx, id) {
    if (id === 'share:yes' || id === 'share:no') return sendJoin(ctx, id === 'share:yes');
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

async function sendJoin(ctx: FlowContext, shareName: boolean): Promise<StepOutcome> {
  const group = await ctx.services.groups.get(String(ctx.data.joinGroupId ?? ''));
  if (!group) return { end: true, say: [{ text: ctx.t('groups:notFound') }] };
  const note = typeof ctx.data.joinNote === 'string' ? ctx.data.joinNote : undefined;
  return { end: true, say: [await joinGroupSaying(ctx.services, ctx.t, ctx.identity.person.id, group, note, shareName)] };
}

export const placeStep: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('onboarding:placeHow'),
    choices: [
      [{ id: 'place:browse', label: ctx.t('onboarding:placeBrowse') }],
      [{ id: 'place:code', label: ctx.t('onboarding:placeCode') }],
      [{ id: 'place:later', label: ctx.t('onboarding:placeLater') }],
    ],
  }),
  choose(ctx, id) {
    if (id === 'place:browse') {
      ctx.data.areaPath = [];
      ctx.data.page = 0;
      return { goto: 'area' };
    }
    if (id === 'place:code') return { goto: 'code' };
    return { end: true, say: [{ text: ctx.t('onboarding:placedLater') }] };
  },
});

/** One step for every level of the tree: it lists the children of the last chosen area. */
export const areaStep: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const path = areaPath(ctx);
    const parentId = path.at(-1) ?? null;
    const parent = parentId ? await ctx.services.areas.get(parentId) : null;
    const children = await ctx.services.areas.children(parentId);
    if (children.length === 0) {
      // A ward has groups, not child areas.
      const groups = parent ? await ctx.services.areas.groupsIn(parent.id) : [];
      if (!parent) {
        return { text: ctx.t('onboarding:noAreas'), choices: [[{ id: 'place:code', label: ctx.t('onboarding:placeCode') }], [{ id: 'place:later', label: ctx.t('onboarding:placeLater') }]] };
      }
      if (groups.length === 0) {
        return { text: ctx.t('onboarding:noGroups', { parent: parent.name }), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }, { id: 'place:code', label: ctx.t('onboarding:placeCode') }]] };
      }
      const items = groups.map((g) => ({ id: `group:${g.id}`, label: g.name }));
      return { text: ctx.t('onboarding:chooseGroup', { parent: parent.name }), choices: pagedChoices(items, page(ctx), ctx.t, { back: true }) };
    }
    const level = children[0]!.level;
    const items = children.map((a) => ({ id: `area:${a.id}`, label: a.name }));
    // Vietnamese names the levels as the tree does; English uses the kind of level.
    const words = ctx.locale === 'vi' && parent ? levelWords(children) : undefined;
    const text = words
      ? ctx.t('onboarding:chooseNamedLevel', { level: words, parent: parent!.name })
      : ctx.t(LEVEL_PROMPT[level] ?? 'onboarding:chooseWard', { parent: parent?.name ?? '' });
    return {
      text,
      choices: pagedChoices(items, page(ctx), ctx.t, { back: path.length > 0 }),
    };
  },
  choose(ctx, id) {
    const path = areaPath(ctx);
    if (id === 'nav:more') {
      ctx.data.page = page(ctx) + 1;
      return { goto: 'area' };
    }
    ctx.data.page = 0;
    if (id === 'nav:back') {
      ctx.data.areaPath = path.slice(0, -1);
      return { goto: 'area' };
    }
    if (id === 'place:code') return { goto: 'code' };
    if (id === 'place:later') return { end: true, say: [{ text: ctx.t('onboarding:placedLater') }] };
    if (id.startsWith('area:')) {
      ctx.data.areaPath = [...path, id.slice('area:'.length)];
      return { goto: 'area' };
    }
    if (id.startsWith('group:')) {
      if (!mayJoinByBrowsing(ctx.identity.account.channel, ctx.services.joinRules)) return { goto: 'code', say: [{ text: ctx.t('web:joinNeedsCode') }] };
      return joinGroup(ctx, id.slice('group:'.length));
    }
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

export const inviteCodeStep: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('onboarding:enterCode'), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
  maxLength: 32,
  async text(ctx, typed) {
    const group = await ctx.services.groups.findByInviteCode(typed);
    if (!group) return { retry: { text: ctx.t('onboarding:codeInvalid', { code: typed }) } };
    return joinGroup(ctx, group.id);
  },
  choose(ctx, id) {
    if (id === 'nav:back') return { goto: 'place' };
    return { retry: { text: ctx.t('common:chooseFromList') } };
  },
});

export const placementSteps = { place: placeStep, area: areaStep, code: inviteCodeStep, joinNote: joinNoteStep, shareAsk: shareAskStep };

