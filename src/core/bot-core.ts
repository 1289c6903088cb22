/**
 * The channel-blind heart: takes one Inbound, returns the direct replies.
 * Global commands (/start /menu /cancel /help /lang /resume ...) interrupt any flow;
 * everything else goes to the step the person is on.
 */
import type { Inbound, Outbound, Choice } from './messages.js';
import type { Flow, FlowContext, Step, StepInput, StepOutcome } from './flow.js';
import type { Services } from './services/services.js';
import type { Identity } from './services/people.service.js';
import type { ConversationState, ReplySink } from './services/conversation.service.js';
import type { Translator, Locale } from './ports/translator.js';
import type { Logger } from '../logger.js';
import { createKeyedQueue } from './keyed-queue.js';
import { DomainError } from './errors.js';
import { withHint } from './services/outbox.service.js';
import { guardInbound } from './abuse/inbound-guard.js';
import { createMessageLimit } from './abuse/limits.js';
import { matchLabel, packChoices, unpackChoices } from './choice-match.js';

/** What a command or menu action can do while handling one message. */
export interface Session {
  readonly inbound: Inbound;
  readonly identity: Identity;
  readonly locale: Locale;
  readonly state: ConversationState;
  readonly services: Services;
  t(key: string, params?: Record<string, unknown>): string;
  say(...messages: Outbound[]): void;
  startFlow(name: string, data?: Record<string, unknown>, step?: string): Promise<void>;
  /** Leave the current flow; one with typed input in it is kept for /resume. */
  leaveFlow(): void;
  /** Drop the current flow and what was typed in it (/cancel). Returns whether there was one. */
  discardFlow(): boolean;
  showMenu(): Promise<void>;
}

export type Action = (session: Session, args: string) => Promise<void>;

export interface MenuItem {
  /** The action run when picked: the same name as its command. */
  action: string;
  labelKey: string;
  /** Shown only when this says so; entries sharing one function have it asked once per menu. */
  visible?: MenuVisibility;
}

export type MenuVisibility = (identity: Identity, services: Services) => boolean | Promise<boolean>;

/** The entries for people who handle cases somewhere (a leader, deputy, officer or admin): "Cases" and "Send an alert". */
export const forHandlers: MenuVisibility = (identity, services) => services.cases.isHandlerAnywhere(identity.person.id);

/** A feature contributes flows, commands, main-menu entries and answers to notification buttons. */
export interface Feature {
  flows?: Flow[];
  commands?: Record<string, Action>;
  menu?: MenuItem[];
  /**
   * Buttons on notifications ("c:<caseId>:reply") work whatever flow the person is in:
   * the handler gets what follows the prefix. Each handler checks authorization itself.
   */
  notificationChoices?: Record<string, Action>;
  /**
   * A flow's button pressed again after its step is over ("report:send:<draft key>" tapped twice,
   * or at two instances): the handler says what became of it (e.g. "already sent, PA-7K2Q"); then
   * the person is back where they are (the current step's prompt, or the menu).
   */
  repeatedChoices?: Record<string, Action>;
}

export interface BotCoreDeps {
  services: Services;
  translator: Translator;
  features: Feature[];
  logger: Logger;
  /** Messages per account per window before "slow down" (default 30 per 10 s); false: no limit. */
  messageLimit?: { max: number; windowMs: number } | false;
  /**
   * Where direct replies are stored, in the transaction that records the message as handled
   * (messengers: the outbox, sent by the paced delivery worker; web chat: its inbox).
   */
  replies: ReplySink;
}

const MAX_INBOUND_TEXT = 4000;

/** Texts worded for Zalo, where choices are typed numbers and only text, photos and stickers arrive. */
const ZALO_WORDING: Record<string, string> = {
  'common:unsupported': 'common:unsupportedZalo',
  'common:chooseFromList': 'common:chooseFromListZalo',
};

/** Commands that work before someone has read the privacy notice. */
const BEFORE_ONBOARDING = new Set(['start', 'help', 'lang', 'cancel', 'delete_me', 'link', 'settings']);

export function createBotCore(deps: BotCoreDeps) {
  const { services, translator, logger } = deps;
  const flows = new Map<string, Flow>();
  const commands = new Map<string, Action>();
  const menuItems: MenuItem[] = [];
  const notificationChoices = new Map<string, Action>();
  const repeatedChoices = new Map<string, Action>();
  for (const feature of deps.features) {
    for (const [prefix, action] of Object.entries(feature.notificationChoices ?? {})) notificationChoices.set(prefix, action);
    for (const [prefix, action] of Object.entries(feature.repeatedChoices ?? {})) repeatedChoices.set(prefix, action);
    for (const flow of feature.flows ?? []) flows.set(flow.name, flow);
    for (const [name, action] of Object.entries(feature.commands ?? {})) commands.set(name, action);
    menuItems.push(...(feature.menu ?? []));
  }

  const perAccount = createKeyedQueue();

  /** Abuse limit on messages per account (src/core/abuse/limits.ts). */
  const messageLimit = deps.messageLimit === false ? undefined : createMessageLimit({ limit: deps.messageLimit });

  /** One message in, the direct replies out; messages of one account are handled in order. */
  function handle(raw: Inbound): Promise<Outbound[]> {
    // Every channel's input is checked and its text cleaned here (L2, L6): a wrong shape is dropped.
    const inbound = guardInbound(raw);
    if (!inbound) return Promise.resolve([]);
    return perAccount(`${inbound.channel}:${inbound.accountId}`, () => handleOne(inbound));
  }

  /**
   * Handles one message exactly once: its effects on the conversation, its replies and the
   * "handled" mark are committed together (see finish). A crash before that commit leaves the
   * message unhandled for the platform's retry; the steps that change other records first
   * (a report's confirm, an alert's send) are idempotent (draft keys), so a retry finds them.
   */
  async function handleOne(inbound: Inbound): Promise<Outbound[]> {
    const updateKey = `${inbound.channel}:${inbound.updateId}`;
    // Per-account flood limit, in memory (src/core/abuse/limits.ts): over it, one "slow down", then nothing.
    const limited = messageLimit?.check(inbound) ?? 'ok';
    if (limited === 'drop') return [];
    // One read for the "handled" mark, the account with its person and its conversation; the
    // account's last-seen time is written with the turn (finish).
    const opening = await services.processedUpdates.open(updateKey, inbound);
    if (opening.seen) return [];
    const identity = await services.people.resolve(inbound, { lastSeenLater: true, known: opening.identity ?? null });
    /** Commits the turn; the replies returned are already stored for delivery. */
    const finish = async (state: ConversationState | null, out: Outbound[], erased = false): Promise<Outbound[]> => {
      const channels = await services.processedUpdates.finishTurn({
        updateKey,
        accountId: identity.account.id,
        state,
        replies: out,
        to: { channel: inbound.channel, accountId: erased ? null : identity.account.id, chatId: inbound.chatId },
        sink: deps.replies,
        seenAccountId: erased ? undefined : identity.account.id,
      });
      if (!channels) return []; // handled meanwhile by another handler (two instances): its replies went out
      services.outbox.notify(channels);
      return out;
    };
    let locale = services.people.localeOf(identity.person);
    // Zalo has no buttons and delivers no locations: a few texts say so in their Zalo wording.
    const t = (key: string, params?: Record<string, unknown>) =>
      translator.t(locale, inbound.channel === 'zalo' ? (ZALO_WORDING[key] ?? key) : key, params);
    if (limited === 'warn') return finish(null, [messageLimit!.slowDown(t)]);

    if (inbound.chatType === 'group') {
      // Nothing private is ever handled in a group chat; commands get a pointer to the private chat.
      return finish(null, inbound.kind === 'command' ? [{ text: t('common:groupChat') }] : []);
    }

    // A new account (created just now by resolve) has its conversation read now.
    const state = opening.identity ? services.conversations.stateOf(opening.conversation) : await services.conversations.load(identity.account.id);
    const replies: Outbound[] = [];
    let erased = false;

    const flowContext = (): FlowContext => ({
      identity,
      channel: inbound.channel,
      get locale() {
        return locale;
      },
      t,
      data: state.data,
      services,
      async setLocale(next) {
        identity.person = await services.people.setLocale(identity.person.id, next);
        locale = next;
      },
      erased() {
        erased = true;
      },
    });

    async function prompt(flow: Flow, stepName: string): Promise<void> {
      const step = flow.steps[stepName];
      if (!step) throw new Error(`flow ${flow.name} has no step ${stepName}`);
      state.flow = flow.name;
      state.step = stepName;
      replies.push(await promptOf(step));
    }

    /** A step's prompt; beside a typed answer its choices are picked by their words, not numbers. */
    async function promptOf(step: Step): Promise<Outbound> {
      const out = await step.prompt(flowContext());
      if (!step.textInput || step.numbersPick || !out.choices?.length) return out;
      return { ...out, byLabel: true, hint: out.hint ?? t('common:typeLabelHint') };
    }

    async function apply(flow: Flow, outcome: StepOutcome): Promise<void> {
      if ('retry' in outcome) {
        replies.push(outcome.retry);
        await prompt(flow, state.step!);
        return;
      }
      replies.push(...(outcome.say ?? []));
      if ('goto' in outcome) {
        await prompt(flow, outcome.goto);
        return;
      }
      endFlow();
      if (outcome.next) await session.startFlow(outcome.next.flow, outcome.next.data);
      else if (outcome.menu !== false) await session.showMenu();
    }

    function endFlow() {
      state.flow = null;
      state.step = null;
      state.data = {};
    }

    const session: Session = {
      inbound,
      identity,
      get locale() {
        return locale;
      },
      state,
      services,
      t,
      say: (...messages) => void replies.push(...messages),
      async startFlow(name, data = {}, step) {
        const flow = flows.get(name);
        if (!flow) throw new Error(`unknown flow ${name}`);
        suspendCurrent();
        state.data = { ...data };
        await prompt(flow, step ?? flow.first);
      },
      leaveFlow: () => suspendCurrent(),
      discardFlow() {
        const busy = Boolean(state.flow);
        endFlow();
        return busy;
      },
      async showMenu() {
        replies.push(await mainMenu(identity, t, state));
      },
    };

    /** A resumable flow with something typed in it is put aside rather than lost. */
    function suspendCurrent() {
      const current = state.flow ? flows.get(state.flow) : undefined;
      if (current?.resumeTitleKey && state.step && Object.keys(state.data).length > 0) {
        state.suspended = { flow: current.name, step: state.step, data: state.data };
        replies.push({ text: t('common:resumeOffer', { what: t(current.resumeTitleKey) }) });
      }
      endFlow();
    }

    try {
      try {
        await route(inbound, state, session, replies, flowContext, apply, suspendCurrent, promptOf);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        // A refusal the person should read, then where they were.
        replies.length = 0;
        replies.push({ text: t(error.code, error.params) });
        const flow = state.flow ? flows.get(state.flow) : undefined;
        let reprompted = false;
        if (flow && state.step && flow.steps[state.step]) {
          try {
            await prompt(flow, state.step);
            reprompted = true;
          } catch (again) {
            // The step itself is refused (a forged button opened a case one may not see): leave it.
            if (!(again instanceof DomainError)) throw again;
          }
        }
        if (!reprompted) {
          endFlow();
          await session.showMenu();
        }
      }
    } catch (error) {
      logger.error('handling a message failed', { channel: inbound.channel, kind: inbound.kind, error });
      replies.length = 0;
      replies.push({ text: t('common:internalError') });
      // The state on disk is the one before this message: the person's earlier input is kept.
      return finish(null, withHints(replies, t));
    }
    // Typing a number picks from the last list shown in this turn; with no list, numbers are plain text.
    const lastWithChoices = [...replies].reverse().find((r) => r.choices?.length);
    state.choices = lastWithChoices ? packChoices(lastWithChoices.choices!.flat()) : [];
    return finish(erased ? null : state, withHints(replies, t), erased);
  }

  async function route(
    inbound: Inbound,
    state: ConversationState,
    session: Session,
    replies: Outbound[],
    flowContext: () => FlowContext,
    apply: (flow: Flow, outcome: StepOutcome) => Promise<void>,
    suspendCurrent: () => void,
    promptOf: (step: Step) => Promise<Outbound>,
  ): Promise<void> {
    const t = session.t;
    const flow = state.flow ? flows.get(state.flow) : undefined;
    const step = flow && state.step ? flow.steps[state.step] : undefined;

    if (inbound.kind === 'command') {
      const action = commands.get(inbound.command);
      if (!action) {
        replies.push({ text: t('common:unknownCommand', { command: inbound.command.slice(0, 40) }) });
        if (flow && step) replies.push(await promptOf(step));
        else await session.showMenu();
        return;
      }
      if (!session.identity.person.onboardedAt && !BEFORE_ONBOARDING.has(inbound.command)) {
        // Nobody uses the service before reading the privacy notice: onboarding comes first.
        replies.push({ text: t('onboarding:firstThingsFirst') });
        await session.startFlow('onboarding');
        return;
      }
      await action(session, inbound.args);
      return;
    }

    // A voice message, sticker, video or file is answered the same in every step ("I cannot hear
    // voice messages yet"), then the question is asked again; a blank text is the step's own business.
    if (inbound.kind === 'unsupported' && inbound.what !== 'text') {
      replies.push({ text: t(inbound.what === 'voice' ? 'common:unsupportedVoice' : 'common:unsupported') });
      if (flow && step) replies.push(await promptOf(step));
      else if (session.identity.person.onboardedAt) await session.showMenu();
      else await session.startFlow('onboarding');
      return;
    }

    let input: StepInput = inbound;
    if (input.kind === 'text' && input.text.length > MAX_INBOUND_TEXT && !(flow && step)) {
      replies.push({ text: t('common:tooLong', { length: input.text.length, max: MAX_INBOUND_TEXT }) });
      await session.showMenu();
      return;
    }
    const offered = unpackChoices(state.choices);
    // Typing a choice's label picks it, with or without accents, in any case ("bo qua", "BỎ QUA").
    const byLabel = input.kind === 'text' ? matchLabel(input.text, offered.ids, offered.labels) : undefined;
    // A bare number typed in a free-text step (a house number, an answer) is text; elsewhere it
    // picks from the last list offered, on every channel.
    const numbersAreText = Boolean(step?.textInput && !step.numbersPick);
    if (byLabel) input = { kind: 'choice', choice: byLabel };
    else if (input.kind === 'text' && /^\s*\d{1,3}\s*$/.test(input.text) && offered.ids.length > 0 && !numbersAreText) {
      const n = Number(input.text.trim());
      const id = offered.ids[n - 1];
      if (!id) {
        replies.push({ text: t('common:choiceOutOfRange', { number: n, max: offered.ids.length }) });
        if (flow && step) replies.push(await promptOf(step));
        else await session.showMenu();
        return;
      }
      input = { kind: 'choice', choice: id };
    }

    if (input.kind === 'choice') {
      const prefix = [...notificationChoices.keys()].find((p) => input.kind === 'choice' && input.choice.startsWith(p));
      if (prefix) {
        await notificationChoices.get(prefix)!(session, input.choice.slice(prefix.length));
        return;
      }
    }

    if (input.kind === 'choice' && input.choice.startsWith('menu:')) {
      const action = commands.get(input.choice.slice('menu:'.length));
      if (action) {
        suspendCurrent();
        await action(session, '');
        return;
      }
    }

    if (input.kind === 'choice' && !(flow && step && offered.ids.includes(input.choice))) {
      const choice = input.choice;
      const repeated = [...repeatedChoices.keys()].find((p) => choice.startsWith(p));
      if (repeated) {
        await repeatedChoices.get(repeated)!(session, choice.slice(repeated.length));
        if (flow && step) replies.push(await step.prompt(flowContext()));
        else await session.showMenu();
        return;
      }
    }

    if (flow && step) {
      // A button from an older message (or a forged one) is not an answer to this step.
      if (input.kind === 'choice' && !offered.ids.includes(input.choice)) {
        await apply(flow, { retry: { text: t('common:chooseFromList') } });
        return;
      }
      await apply(flow, await step.handle(flowContext(), input));
      return;
    }

    if (!session.identity.person.onboardedAt) {
      // A first "hello" (or anything) from someone new starts onboarding.
      await session.startFlow('onboarding');
      return;
    }
    replies.push({ text: t(input.kind === 'unsupported' ? 'common:unsupported' : 'common:notUnderstood') });
    await session.showMenu();
  }

  async function mainMenu(identity: Identity, t: Session['t'], state: ConversationState): Promise<Outbound> {
    const rows: Choice[][] = [];
    const suspended = state.suspended ? flows.get(state.suspended.flow) : undefined;
    if (suspended?.resumeTitleKey) {
      rows.push([{ id: 'menu:resume', label: t('common:resumeButton', { what: t(suspended.resumeTitleKey) }) }]);
    }
    const answers = new Map<MenuVisibility, boolean>();
    for (const item of menuItems) {
      if (item.visible) {
        let shown = answers.get(item.visible);
        if (shown === undefined) answers.set(item.visible, (shown = await item.visible(identity, services)));
        if (!shown) continue;
      }
      rows.push([{ id: `menu:${item.action}`, label: t(item.labelKey) }]);
    }
    return { text: t('menu:title'), choices: rows };
  }

  return { handle, commandNames: () => [...commands.keys()] };
}

function withHints(replies: Outbound[], t: Session['t']): Outbound[] {
  return replies.map((r) => withHint(r, t));
}

export type BotCore = ReturnType<typeof createBotCore>;
