/**
 * The channel-blind heart: takes one Inbound, returns the direct replies.
 * Global commands (/start /menu /cancel /help /lang /resume ...) interrupt any flow;
 * everything else goes to the step the person is on.
 */
import type { Inbound, Outbound, Choice } from './messages.js';
import type { Flow, FlowContext, StepInput, StepOutcome } from './flow.js';
import type { Services } from './services/services.js';
import type { Identity } from './services/people.service.js';
import type { ConversationState } from './services/conversation.service.js';
import type { Translator, Locale } from './ports/translator.js';
import type { Logger } from '../logger.js';
import { createKeyedQueue } from './keyed-queue.js';
import { DomainError } from './errors.js';
import { withHint } from './services/outbox.service.js';

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
  visible?(identity: Identity, services: Services): boolean | Promise<boolean>;
}

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
}

export interface BotCoreDeps {
  services: Services;
  translator: Translator;
  features: Feature[];
  logger: Logger;
}

const MAX_INBOUND_TEXT = 4000;

/** Commands that work before someone has read the privacy notice. */
const BEFORE_ONBOARDING = new Set(['start', 'help', 'lang', 'cancel', 'delete_me', 'link', 'settings']);

export function createBotCore(deps: BotCoreDeps) {
  const { services, translator, logger } = deps;
  const flows = new Map<string, Flow>();
  const commands = new Map<string, Action>();
  const menuItems: MenuItem[] = [];
  const notificationChoices = new Map<string, Action>();
  for (const feature of deps.features) {
    for (const [prefix, action] of Object.entries(feature.notificationChoices ?? {})) notificationChoices.set(prefix, action);
    for (const flow of feature.flows ?? []) flows.set(flow.name, flow);
    for (const [name, action] of Object.entries(feature.commands ?? {})) commands.set(name, action);
    menuItems.push(...(feature.menu ?? []));
  }

  const perAccount = createKeyedQueue();

  /** One message in, the direct replies out; messages of one account are handled in order. */
  function handle(inbound: Inbound): Promise<Outbound[]> {
    return perAccount(`${inbound.channel}:${inbound.accountId}`, () => handleOne(inbound));
  }

  async function handleOne(inbound: Inbound): Promise<Outbound[]> {
    if (!(await services.processedUpdates.firstTime(`${inbound.channel}:${inbound.updateId}`))) return [];
    const identity = await services.people.resolve(inbound);
    let locale = services.people.localeOf(identity.person);
    const t = (key: string, params?: Record<string, unknown>) => translator.t(locale, key, params);

    if (inbound.chatType === 'group') {
      // Nothing private is ever handled in a group chat; commands get a pointer to the private chat.
      return inbound.kind === 'command' ? [{ text: t('common:groupChat') }] : [];
    }

    const state = await services.conversations.load(identity.account.id);
    const replies: Outbound[] = [];
    let erased = false;

    const flowContext = (): FlowContext => ({
      identity,
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
      replies.push(await step.prompt(flowContext()));
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
        await route(inbound, state, session, replies, flowContext, apply, suspendCurrent);
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
      return withHints(replies, t);
    }
    // Typing a number picks from the last list shown in this turn; with no list, numbers are plain text.
    const lastWithChoices = [...replies].reverse().find((r) => r.choices?.length);
    state.choices = lastWithChoices ? lastWithChoices.choices!.flat().map((c) => c.id) : [];
    if (!erased) await services.conversations.save(identity.account.id, state);
    return withHints(replies, t);
  }

  async function route(
    inbound: Inbound,
    state: ConversationState,
    session: Session,
    replies: Outbound[],
    flowContext: () => FlowContext,
    apply: (flow: Flow, outcome: StepOutcome) => Promise<void>,
    suspendCurrent: () => void,
  ): Promise<void> {
    const t = session.t;
    const flow = state.flow ? flows.get(state.flow) : undefined;
    const step = flow && state.step ? flow.steps[state.step] : undefined;

    if (inbound.kind === 'command') {
      const action = commands.get(inbound.command);
      if (!action) {
        replies.push({ text: t('common:unknownCommand', { command: inbound.command.slice(0, 40) }) });
        if (flow && step) replies.push(await step.prompt(flowContext()));
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

    let input: StepInput = inbound;
    if (input.kind === 'text' && input.text.length > MAX_INBOUND_TEXT && !(flow && step)) {
      replies.push({ text: t('common:tooLong', { length: input.text.length, max: MAX_INBOUND_TEXT }) });
      await session.showMenu();
      return;
    }
    // A typed number picks from the last list offered, on every channel.
    if (input.kind === 'text' && /^\s*\d{1,3}\s*$/.test(input.text) && state.choices.length > 0) {
      const n = Number(input.text.trim());
      const id = state.choices[n - 1];
      if (!id) {
        replies.push({ text: t('common:choiceOutOfRange', { number: n, max: state.choices.length }) });
        if (flow && step) replies.push(await step.prompt(flowContext()));
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

    if (flow && step) {
      // A button from an older message (or a forged one) is not an answer to this step.
      if (input.kind === 'choice' && !state.choices.includes(input.choice)) {
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
    for (const item of menuItems) {
      if (item.visible && !(await item.visible(identity, services))) continue;
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
