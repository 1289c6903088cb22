/**
 * /alert: target groups, category, severity, headline, text, instruction, expiry,
 * exercise flag, a preview exactly as residents will read it, and confirm. Nothing is
 * sent before confirm.
 */
import { choiceStep, pagedChoices, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';
import { ALERT_CATEGORIES, ALERT_CATEGORY_KEYS, SEVERITIES, SEVERITY_KEYS, isAlertCategory, isSeverity, parseDuration, type AlertCategory, type Severity } from '../services/alert.catalog.js';
import type { AlertDraft } from '../services/alert.service.js';
import { formatClock } from '../format.js';
import { draftKeyOf } from '../draft-key.js';

export const MAX_HEADLINE = 120;
export const MAX_ALERT_TEXT = 1500;
export const MAX_INSTRUCTION = 500;
const HOUR = 3_600_000;

interface Draft {
  groupIds?: string[];
  category?: AlertCategory;
  severity?: Severity;
  headline?: string;
  text?: string;
  instruction?: string | null;
  expiresInMs?: number;
  exercise?: boolean;
  page?: number;
}
const draft = (ctx: FlowContext) => ctx.data as Draft;

const groups: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const d = draft(ctx);
    const selected = new Set(d.groupIds ?? []);
    const sendable = await ctx.services.alerts.sendableGroups(ctx.identity.person.id);
    const items: Choice[] = sendable.map((g) => ({
      id: `alert:g:${g.id}`,
      label: ctx.t(selected.has(g.id) ? 'alerts:groupChecked' : 'alerts:groupUnchecked', { group: `${g.name} (${g.area.name})` }),
    }));
    const rows = pagedChoices(items, d.page ?? 0, ctx.t);
    if (sendable.length > 1) rows.push([{ id: 'alert:g:all', label: ctx.t('alerts:allGroups', { count: sendable.length }) }]);
    rows.push([{ id: 'alert:g:done', label: ctx.t('alerts:groupsDone') }]);
    return { text: ctx.t('alerts:chooseGroups'), choices: rows };
  },
  async choose(ctx, id) {
    const d = draft(ctx);
    const selected = new Set(d.groupIds ?? []);
    if (id === 'nav:more') d.page = (d.page ?? 0) + 1;
    else if (id === 'alert:g:all') (await ctx.services.alerts.sendableGroups(ctx.identity.person.id)).forEach((g) => selected.add(g.id));
    else if (id === 'alert:g:done') {
      if (!selected.size) return { retry: { text: ctx.t('alerts:noTargets') } };
      return { goto: 'category' };
    } else {
      const groupId = id.slice('alert:g:'.length);
      if (selected.has(groupId)) selected.delete(groupId);
      else selected.add(groupId);
    }
    d.groupIds = [...selected];
    return { goto: 'groups' };
  },
});

const category: Step = choiceStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:chooseCategory'), choices: ALERT_CATEGORIES.map((c) => [{ id: `alert:cat:${c}`, label: ctx.t(ALERT_CATEGORY_KEYS[c]) }]) }),
  choose(ctx, id) {
    const value = id.slice('alert:cat:'.length);
    if (!isAlertCategory(value)) return { retry: { text: ctx.t('common:chooseFromList') } };
    draft(ctx).category = value;
    return { goto: 'severity' };
  },
});

const severity: Step = choiceStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:chooseSeverity'), choices: SEVERITIES.map((s) => [{ id: `alert:sev:${s}`, label: ctx.t(SEVERITY_KEYS[s]) }]) }),
  choose(ctx, id) {
    const value = id.slice('alert:sev:'.length);
    if (!isSeverity(value)) return { retry: { text: ctx.t('common:chooseFromList') } };
    draft(ctx).severity = value;
    return { goto: 'headline' };
  },
});

const headline: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:askHeadline', { max: MAX_HEADLINE }) }),
  maxLength: MAX_HEADLINE,
  text(ctx, text) {
    draft(ctx).headline = text;
    return { goto: 'body' };
  },
});

const body: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:askText', { max: MAX_ALERT_TEXT }) }),
  maxLength: MAX_ALERT_TEXT,
  text(ctx, text) {
    draft(ctx).text = text;
    return { goto: 'instruction' };
  },
});

const instruction: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:askInstruction', { max: MAX_INSTRUCTION }), choices: [[{ id: 'alert:skip', label: ctx.t('common:skip') }]] }),
  maxLength: MAX_INSTRUCTION,
  text(ctx, text) {
    draft(ctx).instruction = text;
    return { goto: 'expiry' };
  },
  choose(ctx) {
    draft(ctx).instruction = null;
    return { goto: 'expiry' };
  },
});

const EXPIRY_CHOICES: Array<[string, string, number]> = [
  ['alert:exp:1h', 'alerts:expiry1h', HOUR],
  ['alert:exp:6h', 'alerts:expiry6h', 6 * HOUR],
  ['alert:exp:24h', 'alerts:expiry24h', 24 * HOUR],
  ['alert:exp:3d', 'alerts:expiry3d', 72 * HOUR],
];

const expiry: Step = textStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:askExpiry'), choices: EXPIRY_CHOICES.map(([id, key]) => [{ id, label: ctx.t(key) }]) }),
  maxLength: 40,
  // The listed durations are the main answers: a typed number picks one.
  numbersPick: true,
  text(ctx, typed): StepOutcome {
    const ms = parseDuration(typed);
    if (!ms) return { retry: { text: ctx.t('alerts:expiryInvalid', { typed }) } };
    draft(ctx).expiresInMs = ms;
    return { goto: 'exercise' };
  },
  choose(ctx, id) {
    const found = EXPIRY_CHOICES.find(([cid]) => cid === id);
    if (!found) return { retry: { text: ctx.t('common:chooseFromList') } };
    draft(ctx).expiresInMs = found[2];
    return { goto: 'exercise' };
  },
});

const exercise: Step = choiceStep({
  prompt: (ctx) => ({ text: ctx.t('alerts:askExercise'), choices: [[{ id: 'alert:real', label: ctx.t('alerts:real') }], [{ id: 'alert:exercise', label: ctx.t('alerts:exercise') }]] }),
  choose(ctx, id) {
    draft(ctx).exercise = id === 'alert:exercise';
    return { goto: 'preview' };
  },
});

function toDraft(d: Draft): AlertDraft {
  return {
    groupIds: d.groupIds ?? [],
    category: d.category ?? 'other',
    severity: d.severity ?? 'minor',
    headline: d.headline ?? '',
    text: d.text ?? '',
    instruction: d.instruction ?? undefined,
    expiresInMs: d.expiresInMs ?? HOUR,
    exercise: Boolean(d.exercise),
  };
}

/** Shows the alert as residents will get it; the last message holds Send / Start over / Discard. */
const preview: Step = {
  async prompt(ctx): Promise<Outbound> {
    const d = toDraft(draft(ctx));
    const count = await ctx.services.alerts.audienceSize(d.groupIds);
    const copy = await ctx.services.alerts.preview(d, ctx.t, ctx.locale, ctx.identity.person.id);
    return {
      text: `${ctx.t('alerts:previewIntro', { count })}\n\n${copy.text}`,
      choices: [
        // The draft's key rides on the button: pressed again later, it finds the alert it sent.
        [{ id: `alert:send:${draftKeyOf(ctx.data)}`, label: ctx.t('alerts:confirmSend') }],
        [{ id: 'alert:restart', label: ctx.t('alerts:editAlert') }, { id: 'alert:discard', label: ctx.t('alerts:discard') }],
      ],
    };
  },
  async handle(ctx, input) {
    if (input.kind !== 'choice') return { retry: { text: ctx.t('common:chooseFromList') } };
    if (input.choice === 'alert:discard') return { end: true, say: [{ text: ctx.t('common:cancelled') }] };
    if (input.choice === 'alert:restart') {
      const keep = draft(ctx).groupIds;
      for (const key of Object.keys(ctx.data)) delete ctx.data[key];
      draft(ctx).groupIds = keep;
      return { goto: 'groups' };
    }
    if (input.choice !== `alert:send:${draftKeyOf(ctx.data)}`) return { retry: { text: ctx.t('common:chooseFromList') } };
    const { alert, recipients, already } = await ctx.services.alerts.send(ctx.identity.person.id, toDraft(draft(ctx)), draftKeyOf(ctx.data));
    // Confirmed twice (a double tap, a retry after a crash, two instances): nothing is sent again.
    if (already) return { end: true, say: [{ text: ctx.t('alerts:alreadySent', { headline: alert.headline, count: recipients }) }] };
    return { end: true, menu: false, say: [{ text: ctx.t('alerts:sent', { count: recipients }) }] };
  },
};

export const alertFlow: Flow = {
  name: 'alert',
  first: 'groups',
  resumeTitleKey: 'alerts:title',
  steps: { groups, category, severity, headline, body, instruction, expiry, exercise, preview },
};

/** The sender's follow-up: when to re-ping, the text of an update or cancellation, and the cancel confirmation. */
export const alertFollowFlow: Flow = {
  name: 'alert-follow',
  first: 'reping',
  steps: {
    reping: choiceStep({
      prompt: (ctx) => ({
        text: ctx.t('alerts:repingWhen'),
        choices: [
          [{ id: 'alert:rp:0', label: ctx.t('alerts:repingNow') }],
          [{ id: 'alert:rp:15', label: ctx.t('alerts:reping15') }],
          [{ id: 'alert:rp:60', label: ctx.t('alerts:reping60') }],
        ],
      }),
      async choose(ctx, id) {
        const minutes = Number(id.slice('alert:rp:'.length));
        const alertId = String(ctx.data.alertId);
        const { at, reminded } = await ctx.services.alerts.scheduleReping(ctx.identity.person.id, alertId, minutes * 60_000);
        if (minutes === 0) return { end: true, say: [{ text: ctx.t('alerts:repingDone', { count: reminded }) }] };
        return { end: true, say: [{ text: ctx.t('alerts:repingScheduled', { time: formatClock(at, ctx.locale) }) }] };
      },
    }),
    compose: textStep({
      prompt: (ctx) => ({ text: ctx.t(ctx.data.kind === 'cancel' ? 'alerts:askCancelText' : 'alerts:askUpdateText'), choices: [[{ id: 'nav:back', label: ctx.t('common:back') }]] }),
      maxLength: MAX_ALERT_TEXT,
      async text(ctx, text) {
        ctx.data.text = text;
        if (ctx.data.kind === 'cancel') return { goto: 'confirmCancel' };
        const { recipients } = await ctx.services.alerts.follow(ctx.identity.person.id, String(ctx.data.alertId), 'update', { text });
        return { end: true, say: [{ text: ctx.t('alerts:updateSent', { count: recipients }) }] };
      },
      choose: () => ({ end: true }),
    }),
    confirmCancel: choiceStep({
      async prompt(ctx) {
        const view = await ctx.services.alerts.summary(ctx.identity.person.id, String(ctx.data.alertId));
        return {
          text: ctx.t('alerts:confirmCancel', { headline: view.headline, count: view.sent }),
          choices: [[{ id: 'alert:cancel:yes', label: ctx.t('alerts:confirmCancelYes') }], [{ id: 'alert:cancel:no', label: ctx.t('alerts:keepAlert') }]],
        };
      },
      async choose(ctx, id) {
        if (id !== 'alert:cancel:yes') return { end: true };
        const { recipients } = await ctx.services.alerts.follow(ctx.identity.person.id, String(ctx.data.alertId), 'cancel', { text: String(ctx.data.text ?? '') });
        return { end: true, say: [{ text: ctx.t('alerts:cancelSent', { count: recipients }) }] };
      },
    }),
  },
};
