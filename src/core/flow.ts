/**
 * A flow is a small step machine: each step shows a prompt and handles one input.
 * The engine persists which step a person is on, so a restart resumes the flow.
 */
import type { Outbound, InboundPayload, Choice, Channel } from './messages.js';
import type { Identity } from './services/people.service.js';
import type { Locale } from './ports/translator.js';
import type { Services } from './services/services.js';

export type StepInput = Exclude<InboundPayload, { kind: 'command' }>;

export interface FlowContext {
  identity: Identity;
  /** The channel this message came on: prompts can leave out what it cannot do (Zalo sends no locations). */
  channel: Channel;
  locale: Locale;
  t(key: string, params?: Record<string, unknown>): string;
  /** The flow's own data; changes are saved with the step. */
  data: Record<string, unknown>;
  services: Services;
  /** Change the person's language from now on (the language step). */
  setLocale(locale: Locale): Promise<void>;
  /** The person's data was just erased: nothing about this conversation may be stored again. */
  erased(): void;
}

export type StepOutcome =
  /** Go to another step (or the same one) and show its prompt, after `say`. */
  | { goto: string; say?: Outbound[] }
  /** The input was not acceptable: show this explanation and the prompt again. */
  | { retry: Outbound }
  /** The flow is over: say these, then show the main menu unless `menu` is false, or start another flow. */
  | { end: true; say?: Outbound[]; menu?: boolean; next?: { flow: string; data?: Record<string, unknown> } };

export interface Step {
  prompt(ctx: FlowContext): Outbound | Promise<Outbound>;
  handle(ctx: FlowContext, input: StepInput): StepOutcome | Promise<StepOutcome>;
  /**
   * The step takes typed text (an answer, a house number): a bare number typed here is text,
   * not a pick from its choices. Its choices (Back, Skip) are still picked by typing their label.
   */
  textInput?: boolean;
  /** In a text step whose choices are the main answers (the alert's expiry), typed numbers pick. */
  numbersPick?: boolean;
}

export interface Flow {
  name: string;
  first: string;
  steps: Record<string, Step>;
  /** i18n key naming the flow when it is offered back by /resume; flows without it are not resumable. */
  resumeTitleKey?: string;
}

const say = (text: string): Outbound => ({ text });

/** A step that only accepts one of the choices it offered. */
export function choiceStep(def: {
  prompt(ctx: FlowContext): Outbound | Promise<Outbound>;
  choose(ctx: FlowContext, choiceId: string): StepOutcome | Promise<StepOutcome>;
}): Step {
  return {
    prompt: def.prompt,
    handle(ctx, input) {
      if (input.kind !== 'choice') return { retry: say(ctx.t('common:chooseFromList')) };
      return def.choose(ctx, input.choice);
    },
  };
}

/** A step that takes typed text (length-checked), and optionally choices such as Back or Skip. */
export function textStep(def: {
  prompt(ctx: FlowContext): Outbound | Promise<Outbound>;
  maxLength: number;
  text(ctx: FlowContext, text: string): StepOutcome | Promise<StepOutcome>;
  choose?(ctx: FlowContext, choiceId: string): StepOutcome | Promise<StepOutcome>;
  /** Typed numbers pick from the choices (they are the main answers, not Back/Skip). */
  numbersPick?: boolean;
}): Step {
  return {
    prompt: def.prompt,
    textInput: true,
    numbersPick: def.numbersPick,
    handle(ctx, input) {
      if (input.kind === 'choice' && def.choose) return def.choose(ctx, input.choice);
      // A blank message reaches the core as unsupported "text" (the Zalo adapter): it is empty, not unreadable.
      if (input.kind === 'unsupported' && input.what === 'text') return { retry: say(ctx.t('common:emptyText')) };
      if (input.kind !== 'text') return { retry: say(ctx.t('common:unsupported')) };
      const text = input.text.trim();
      if (!text) return { retry: say(ctx.t('common:emptyText')) };
      if (text.length > def.maxLength) {
        return { retry: say(ctx.t('common:tooLong', { length: text.length, max: def.maxLength })) };
      }
      return def.text(ctx, text);
    },
  };
}

export const PAGE_SIZE = 10;

/** One page of a long list as rows of choices, with Back and More where they apply. */
export function pagedChoices(
  items: Choice[],
  page: number,
  t: FlowContext['t'],
  options: { back?: boolean } = {},
): Choice[][] {
  const start = page * PAGE_SIZE;
  const rows: Choice[][] = items.slice(start, start + PAGE_SIZE).map((c) => [c]);
  const nav: Choice[] = [];
  if (options.back) nav.push({ id: 'nav:back', label: t('common:back') });
  if (start + PAGE_SIZE < items.length) nav.push({ id: 'nav:more', label: t('common:more') });
  if (nav.length) rows.push(nav);
  return rows;
}
