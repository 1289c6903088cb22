/**
 * The guided report: emergency check first, then group, category, description, photo,
 * location, anonymous or named, a preview with edits, and confirm. The draft lives in the
 * flow data, so a restart or an interrupting command (then /resume) keeps it.
 */
import { choiceStep, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Channel, Choice, Outbound } from '../messages.js';
import { CATEGORIES, CATEGORY_KEYS, isCategory, type Category } from '../services/case.catalog.js';
import { excerpt } from '../format.js';
import { draftKeyOf } from '../draft-key.js';

export const MAX_DESCRIPTION = 2000;
const MAX_PLACE = 300;

interface Draft {
  groupId?: string;
  urgent?: boolean;
  category?: Category;
  description?: string;
  photoMediaId?: string | null;
  latitude?: number;
  longitude?: number;
  placeText?: string | null;
  anonymous?: boolean;
  /** Set while editing from the preview: each step returns there. */
  editing?: boolean;
}

const draft = (ctx: FlowContext) => ctx.data as Draft;
const skipChoice = (ctx: FlowContext): Choice[] => [{ id: 'report:skip', label: ctx.t('common:skip') }];
/** After a step: the preview when editing, else the next step in order. */
const then = (ctx: FlowContext, next: string): StepOutcome => ({ goto: draft(ctx).editing ? 'preview' : next });

const emergency: Step = choiceStep({
  prompt: (ctx) => (draftKeyOf(ctx.data), {
    text: ctx.t('report:emergencyQuestion'),
    choices: [[{ id: 'report:danger', label: ctx.t('report:emergencyYes') }], [{ id: 'report:nodanger', label: ctx.t('report:emergencyNo') }]],
  }),
  async choose(ctx, id) {
    const d = draft(ctx);
    const say: Outbound[] = [];
    d.urgent = id === 'report:danger';
    // 113/114/115 come first, for everyone: also for a person in no group yet.
    if (d.urgent) say.push({ text: ctx.t('report:emergencyNumbers') });
    if (!d.groupId) {
      const mine = (await ctx.services.groups.mine(ctx.identity.person.id)).filter((m) => m.state === 'active');
      if (!mine.length) return { end: true, say: [...say, { text: ctx.t('report:noGroup') }], next: { flow: 'join' } };
      if (mine.length === 1) d.groupId = mine[0]!.groupId;
    }
    return { goto: d.groupId ? 'category' : 'group', say };
  },
});

const group: Step = choiceStep({
  async prompt(ctx) {
    const mine = (await ctx.services.groups.mine(ctx.identity.person.id)).filter((m) => m.state === 'active');
    return { text: ctx.t('report:chooseGroup'), choices: mine.map((m) => [{ id: `report:group:${m.groupId}`, label: `${m.group.name} (${m.group.area.name})` }]) };
  },
  choose(ctx, id) {
    draft(ctx).groupId = id.slice('report:group:'.length);
    return then(ctx, 'category');
  },
});

const category: Step = choiceStep({
  prompt: (ctx) => ({ text: ctx.t('report:chooseCategory'), choices: CATEGORIES.map((c) => [{ id: `report:cat:${c}`, label: ctx.t(CATEGORY_KEYS[c]) }]) }),
  choose(ctx, id) {
    const value = id.slice('report:cat:'.length);
    if (!isCategory(value)) return { retry: { text: ctx.t('common:chooseFromList') } };
    const d = draft(ctx);
    // A neighbour dispute goes to the group's mediation team (tự hòa giải) instead, unless someone
    // is in danger now: then it stays a report for the leaders and the police.
    if (value === 'dispute' && !d.urgent && d.groupId) {
      return { end: true, menu: false, next: { flow: 'mediation-request', data: { groupId: d.groupId, fromReport: true } } };
    }
    d.category = value;
    return then(ctx, 'description');
  },
});

const description: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('report:describe', { max: MAX_DESCRIPTION }) }),
  maxLength: MAX_DESCRIPTION,
  text(ctx, text) {
    draft(ctx).description = text;
    return then(ctx, 'photo');
  },
});

const photo: Step = {
  prompt: (ctx) => ({ text: ctx.t('report:photoAsk'), choices: [skipChoice(ctx)] }),
  async handle(ctx, input) {
    if (input.kind === 'choice' && input.choice === 'report:skip') {
      draft(ctx).photoMediaId = null;
      return then(ctx, 'location');
    }
    if (input.kind !== 'photo') return { retry: { text: ctx.t('report:photoExpected') } };
    try {
      draft(ctx).photoMediaId = await ctx.services.media.adopt(ctx.identity.account.channel as Channel, input.photo, ctx.identity.person.id);
    } catch {
      return { retry: { text: ctx.t('report:photoFailed') } };
    }
    return { ...then(ctx, 'location'), say: [{ text: ctx.t('report:photoSaved') }] } as StepOutcome;
  },
};

/**
 * Where it happened: typed words on every channel (a house number is text, not a pick), or the
 * person's current location where the app can send one. Zalo delivers no locations to bots, so
 * there the prompt asks for words only.
 */
const location: Step = {
  textInput: true,
  prompt: (ctx) =>
    ctx.channel === 'zalo'
      ? { text: ctx.t('report:locationAskWords'), choices: [skipChoice(ctx)] }
      : { text: ctx.t('report:locationAsk'), choices: [skipChoice(ctx)], askLocation: ctx.t('report:locationButton') },
  handle(ctx, input) {
    const d = draft(ctx);
    if (input.kind === 'choice' && input.choice === 'report:skip') {
      Object.assign(d, { latitude: undefined, longitude: undefined, placeText: null });
      return then(ctx, 'anonymity');
    }
    if (input.kind === 'location') {
      Object.assign(d, { latitude: input.latitude, longitude: input.longitude, placeText: null });
      return then(ctx, 'anonymity');
    }
    if (input.kind === 'text') {
      const text = input.text.trim();
      if (!text) return { retry: { text: ctx.t('common:emptyText') } };
      if (text.length > MAX_PLACE) return { retry: { text: ctx.t('common:tooLong', { length: text.length, max: MAX_PLACE }) } };
      Object.assign(d, { latitude: undefined, longitude: undefined, placeText: text });
      return then(ctx, 'anonymity');
    }
    return { retry: { text: ctx.t(ctx.channel === 'zalo' ? 'report:locationExpectedWords' : 'report:locationExpected') } };
  },
};

const anonymity: Step = choiceStep({
  prompt: (ctx) => ({
    text: ctx.t('report:anonymityAsk'),
    choices: [[{ id: 'report:anon', label: ctx.t('report:anonymous') }], [{ id: 'report:named', label: ctx.t('report:named') }]],
  }),
  choose(ctx, id) {
    draft(ctx).anonymous = id === 'report:anon';
    return { goto: 'preview' };
  },
});

async function previewText(ctx: FlowContext): Promise<string> {
  const d = draft(ctx);
  const g = d.groupId ? await ctx.services.groups.get(d.groupId) : null;
  const location =
    d.latitude !== undefined && d.longitude !== undefined
      ? ctx.t('report:previewPin', { lat: d.latitude.toFixed(5), lon: d.longitude.toFixed(5) })
      : (d.placeText ?? ctx.t('report:previewNone'));
  return ctx.t('report:preview', {
    category: d.category ? ctx.t(CATEGORY_KEYS[d.category]) : '',
    group: g ? `${g.name} (${g.area.name})` : '',
    description: excerpt(d.description ?? '', 1500),
    photo: d.photoMediaId ? ctx.t('report:previewYes') : ctx.t('report:previewNone'),
    location,
    identity: d.anonymous
      ? ctx.t('report:previewAnonymous')
      : ctx.identity.person.displayName
        ? ctx.t('report:previewNamed', { name: ctx.identity.person.displayName })
        : ctx.t('report:previewNamedNoName'),
    urgent: d.urgent ? ctx.t('report:previewUrgent') : '',
  });
}

const EDITS: Record<string, string> = {
  'report:edit:description': 'description',
  'report:edit:category': 'category',
  'report:edit:photo': 'photo',
  'report:edit:location': 'location',
  'report:edit:anonymity': 'anonymity',
};

const preview: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = draft(ctx);
    return {
      text: await previewText(ctx),
      photo: d.photoMediaId ? { mediaId: d.photoMediaId } : undefined,
      choices: [
        // The draft's key rides on the button: pressed again later, it finds the case it filed.
        [{ id: `report:send:${draftKeyOf(ctx.data)}`, label: ctx.t('report:send') }],
        [{ id: 'report:edit:description', label: ctx.t('report:editDescription') }, { id: 'report:edit:category', label: ctx.t('report:editCategory') }],
        [{ id: 'report:edit:photo', label: ctx.t('report:editPhoto') }, { id: 'report:edit:location', label: ctx.t('report:editLocation') }],
        [{ id: 'report:edit:anonymity', label: ctx.t('report:editAnonymity') }],
        [{ id: 'report:discard', label: ctx.t('report:discard') }],
      ],
    };
  },
  async choose(ctx, id) {
    const d = draft(ctx);
    if (EDITS[id]) {
      d.editing = true;
      return { goto: EDITS[id]! };
    }
    if (id === 'report:discard') return { end: true, say: [{ text: ctx.t('common:cancelled') }] };
    if (id !== `report:send:${draftKeyOf(ctx.data)}`) return { retry: { text: ctx.t('common:chooseFromList') } };
    const filed = await ctx.services.cases.create(ctx.identity.person.id, {
      groupId: d.groupId!,
      category: d.category!,
      urgent: Boolean(d.urgent),
      description: d.description!,
      photoMediaId: d.photoMediaId ?? undefined,
      latitude: d.latitude,
      longitude: d.longitude,
      placeText: d.placeText ?? undefined,
      anonymous: Boolean(d.anonymous),
    }, { draftKey: draftKeyOf(ctx.data) });
    // Confirmed twice (a double tap, a retry after a crash, two instances): the same reference, nothing new.
    if (filed.already) return { end: true, say: [{ text: ctx.t('report:alreadySent', { ref: filed.case.ref }) }] };
    const g = await ctx.services.groups.get(d.groupId!);
    const police = filed.handlers === 'leadersAndPolice';
    const key = police ? 'report:submittedPolice' : 'report:submittedLeaders';
    const unit = filed.told?.unit ?? ctx.t('cases:level_police');
    return { end: true, say: [{ text: ctx.t(key, { ref: filed.case.ref, group: g?.name ?? '', unit }) }] };
  },
});

export const reportFlow: Flow = {
  name: 'report',
  first: 'emergency',
  resumeTitleKey: 'report:title',
  steps: { emergency, group, category, description, photo, location, anonymity, preview },
};
