/**
 * Consultations and polls ("dân bàn"): leaders (their groups) and officers (their area) ask the
 * members of some groups a question (one choice, several choices, or a short free answer) open
 * until a closing time. The question goes out through the outbox in the transaction that
 * creates it; each person answers once (whatever channel: the answer is keyed by person) and
 * may change it until closing; at closing the results (counts, free answers without names)
 * go to everyone who answered and to the one who asked, and stay readable under /polls.
 * Who answered what is never shown to anyone: results are counts and unsigned texts.
 */
import type { Choice, Outbound } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import { can } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import { formatTime } from '../format.js';
import type { Db } from './db.js';
import type { Outbox, Tx } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import type { Poll } from '../../generated/prisma/client.js';

export const POLL_KINDS = ['single', 'multiple', 'free'] as const;
export type PollKind = (typeof POLL_KINDS)[number];
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 8;
export const MAX_OPTION_LENGTH = 80;
export const MAX_QUESTION = 300;
export const MAX_FREE_ANSWER = 500;
/** A poll stays open at least this long and at most this long. */
export const MIN_OPEN_MS = 5 * 60_000;
export const MAX_OPEN_MS = 60 * 86_400_000;

export interface PollDraft {
  groupIds: string[];
  kind: PollKind;
  question: string;
  options: string[];
  closesAt: Date;
  anonymous: boolean;
  /** The draft's idempotency key: a second confirm finds the poll the first one created. */
  draftKey?: string;
}

type T = (key: string, params?: Record<string, unknown>) => string;

export interface PollResults {
  answers: number;
  counts: number[];
  /** Free answers, without names, in a fixed order that says nothing about who answered when. */
  texts: string[];
}

export const isPollKind = (v: string): v is PollKind => (POLL_KINDS as readonly string[]).includes(v);

/** Splits what was typed into options: one per line, or separated by ";" on a single line. */
export function splitOptions(typed: string): string[] {
  const parts = typed.includes('\n') ? typed.split('\n') : typed.split(';');
  return parts.map((p) => p.replace(/^\s*(?:[-•*]|\d{1,2}[.)])\s*/, '').trim()).filter(Boolean);
}

/** The refusal for options that cannot make a poll, or undefined when they can. */
export function optionsProblem(options: string[]): DomainError | undefined {
  if (options.length < MIN_OPTIONS) return new DomainError('polls:tooFewOptions', { min: MIN_OPTIONS });
  if (options.length > MAX_OPTIONS) return new DomainError('polls:tooManyOptions', { max: MAX_OPTIONS, count: options.length });
  const long = options.find((o) => o.length > MAX_OPTION_LENGTH);
  if (long) return new DomainError('polls:optionTooLong', { max: MAX_OPTION_LENGTH });
  if (new Set(options.map((o) => o.toLocaleLowerCase('vi'))).size !== options.length) return new DomainError('polls:duplicateOptions');
  return undefined;
}

const VN_OFFSET_MS = 7 * 3_600_000;

/**
 * "31/12/2026 18:00", "31/12 18:00", "31/12/2026", "31-12-2026 18h" in Vietnam time (a date
 * without a time closes at 23:59 that day). Undefined when it is not a date.
 */
export function parseClosingTime(typed: string, now: Date): Date | undefined {
  const m = /^\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?(?:\s+(\d{1,2})(?:[:hg](\d{2})?)?)?\s*$/i.exec(typed);
  if (!m) return undefined;
  const day = Number(m[1]);
  const month = Number(m[2]);
  const year = m[3] ? Number(m[3]) : new Date(now.getTime() + VN_OFFSET_MS).getUTCFullYear();
  const hour = m[4] !== undefined ? Number(m[4]) : 23;
  const minute = m[5] !== undefined ? Number(m[5]) : m[4] !== undefined ? 0 : 59;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute) - VN_OFFSET_MS;
  const back = new Date(utc + VN_OFFSET_MS);
  if (back.getUTCDate() !== day) return undefined; // 31/02
  return new Date(utc);
}

export interface PollServiceDeps {
  db: Db;
  outbox: Outbox;
  actors: ActorService;
  clock: Clock;
}

export function createPollService(deps: PollServiceDeps) {
  const { db, outbox, actors, clock } = deps;

  const optionsOf = (poll: Pick<Poll, 'options'>): string[] => JSON.parse(poll.options) as string[];
  const isOpen = (poll: Pick<Poll, 'closesAt' | 'closedAt'>) => !poll.closedAt && poll.closesAt > clock.now();

  function checkClosing(closesAt: Date): void {
    const left = closesAt.getTime() - clock.now().getTime();
    if (left < MIN_OPEN_MS) throw new DomainError('polls:closesInPast');
    if (left > MAX_OPEN_MS) throw new DomainError('polls:closesTooLate', { days: MAX_OPEN_MS / 86_400_000 });
  }

  /** Everything a draft must satisfy; checked at each step and again at confirm. */
  function validate(draft: PollDraft): void {
    if (!draft.groupIds.length) throw new DomainError('polls:noGroups');
    if (!isPollKind(draft.kind)) throw new DomainError('common:chooseFromList');
    const question = draft.question.trim();
    if (!question || question.length > MAX_QUESTION) throw new DomainError('polls:questionInvalid', { max: MAX_QUESTION });
    if (draft.kind !== 'free') {
      const problem = optionsProblem(draft.options);
      if (problem) throw problem;
    }
    checkClosing(draft.closesAt);
  }

  async function authorizeGroups(personId: string, groupIds: string[]) {
    const actor = await actors.actor(personId);
    const groups = await db.group.findMany({ where: { id: { in: groupIds } } });
    if (groups.length !== new Set(groupIds).size) throw new DomainError('polls:noGroups');
    for (const g of groups) {
      if (!can(actor, 'group.consult', { kind: 'group', groupId: g.id, areaChain: await actors.areaChain(g.areaId) })) {
        throw new DomainError('polls:forbiddenGroup', { group: g.name });
      }
    }
    return groups;
  }

  /** The poll as a member reads it; the preview uses the same function (with `preview` ids). */
  function render(poll: Pick<Poll, 'id' | 'question' | 'kind' | 'options' | 'anonymous' | 'closesAt'>, t: T, locale: string, groupNames: string): Outbound {
    const options = optionsOf(poll);
    const lines = [t('polls:header', { groups: groupNames }), '', poll.question, ''];
    if (poll.kind === 'single') lines.push(t('polls:howSingle'));
    else if (poll.kind === 'multiple') lines.push(t('polls:howMultiple'));
    else lines.push(t('polls:howFree', { max: MAX_FREE_ANSWER }));
    lines.push(t(poll.anonymous ? 'polls:anonymousNote' : 'polls:namedNote'));
    lines.push(t('polls:closesAt', { time: formatTime(poll.closesAt, locale) }));
    const choices: Choice[][] =
      poll.kind === 'free'
        ? [[{ id: `p:${poll.id}:a`, label: t('polls:answerButton') }]]
        : options.map((o, i) => [{ id: `p:${poll.id}:o:${i}`, label: o }]);
    return { text: lines.join('\n'), choices };
  }

  async function groupNames(pollId: string): Promise<string> {
    const groups = await db.pollGroup.findMany({ where: { pollId }, include: { group: { select: { name: true } } } });
    return groups.map((g) => g.group.name).sort().join(', ');
  }

  async function results(poll: Poll): Promise<PollResults> {
    const rows = await db.pollAnswer.findMany({
      where: { pollId: poll.id },
      // Names only for a poll asked openly ("not anonymous"), which members were told before answering.
      select: { choices: true, text: true, person: poll.anonymous ? false : { select: { displayName: true } } },
    });
    const counts = optionsOf(poll).map(() => 0);
    const texts: string[] = [];
    for (const r of rows) {
      for (const i of JSON.parse(r.choices) as number[]) if (i >= 0 && i < counts.length) counts[i]! += 1;
      const name = (r as { person?: { displayName: string | null } | null }).person?.displayName;
      if (r.text) texts.push(name ? `${name}: ${r.text}` : r.text);
    }
    texts.sort((a, b) => a.localeCompare(b, 'vi'));
    return { answers: rows.length, counts, texts };
  }

  function resultsText(poll: Poll, r: PollResults, t: T, names: string): string {
    const lines = [t(poll.closedAt || poll.closesAt <= clock.now() ? 'polls:resultsTitle' : 'polls:resultsSoFar', { groups: names }), poll.question, ''];
    lines.push(t('polls:resultsAnswers', { count: r.answers }));
    optionsOf(poll).forEach((o, i) => {
      const n = r.counts[i] ?? 0;
      const percent = r.answers ? Math.round((n * 100) / r.answers) : 0;
      lines.push(t('polls:resultsLine', { option: o, count: n, percent }));
    });
    if (poll.kind === 'free') {
      if (!r.texts.length) lines.push(t('polls:resultsNoTexts'));
      for (const text of r.texts) lines.push(`• ${text}`);
    }
    return lines.join('\n');
  }

  /** Is this person one of the poll's audience (an active member of one of its groups)? */
  async function mayAnswer(personId: string, pollId: string): Promise<boolean> {
    const groups = await db.pollGroup.findMany({ where: { pollId }, select: { groupId: true } });
    const actor = await actors.actor(personId);
    return groups.some((g) => can(actor, 'group.answer', { kind: 'group', groupId: g.groupId, areaChain: [] }));
  }

  async function load(pollId: string): Promise<Poll> {
    const poll = await db.poll.findUnique({ where: { id: pollId } });
    if (!poll) throw new DomainError('polls:notFound');
    return poll;
  }

  /** May see the poll and its results: its audience, the one who asked, and those who may ask its groups. */
  async function mayView(personId: string, poll: Poll): Promise<boolean> {
    if (poll.creatorId === personId) return true;
    const actor = await actors.actor(personId);
    const groups = await db.pollGroup.findMany({ where: { pollId: poll.id }, include: { group: { select: { areaId: true } } } });
    for (const g of groups) {
      if (can(actor, 'group.answer', { kind: 'group', groupId: g.groupId, areaChain: [] })) return true;
      if (can(actor, 'group.consult', { kind: 'group', groupId: g.groupId, areaChain: await actors.areaChain(g.group.areaId) })) return true;
    }
    return false;
  }

  const service = {
    render,
    results,
    resultsText,
    optionsOf,
    isOpen,
    validate,
    checkClosing,

    /** Groups this person may ask (leaders and deputies: theirs; officers: every group in their area; admins: all). */
    async askableGroups(personId: string) {
      const actor = await actors.actor(personId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      const leaderOf = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      return db.group.findMany({
        where: actor.admin ? {} : { OR: [{ id: { in: leaderOf } }, { areaId: { in: areaIds } }] },
        include: { area: { select: { name: true } } },
        orderBy: { name: 'asc' },
        take: 200,
      });
    },

    now: () => clock.now(),

    /** How many people a poll to these groups reaches (active members, each once). */
    async audienceSize(groupIds: string[]): Promise<number> {
      const rows = await db.membership.findMany({ where: { groupId: { in: groupIds }, state: 'active', person: { deletedAt: null } }, select: { personId: true } });
      return new Set(rows.map((r) => r.personId)).size;
    },

    /** The question exactly as members will read it, in the asker's language. */
    async preview(draft: PollDraft, t: T, locale: string): Promise<Outbound> {
      const groups = await db.group.findMany({ where: { id: { in: draft.groupIds } }, select: { name: true } });
      const fake = { id: 'preview', question: draft.question, kind: draft.kind, options: JSON.stringify(draft.options), anonymous: draft.anonymous, closesAt: draft.closesAt };
      return render(fake, t, locale, groups.map((g) => g.name).sort().join(', '));
    },

    /**
     * Confirm: the poll, its groups and one outbox row per member, in one transaction (nothing
     * half-created). A second confirm of the same draft finds the first poll (`already`).
     */
    async create(creatorId: string, draft: PollDraft): Promise<{ poll: Poll; recipients: number; already: boolean }> {
      if (draft.draftKey) {
        const existing = await db.poll.findUnique({ where: { draftKey: draft.draftKey } });
        if (existing) return { poll: existing, recipients: 0, already: true };
      }
      validate(draft);
      const groups = await authorizeGroups(creatorId, draft.groupIds);
      const names = groups.map((g) => g.name).sort().join(', ');
      const members = await db.membership.findMany({
        where: { groupId: { in: draft.groupIds }, state: 'active', person: { deletedAt: null } },
        select: { personId: true },
      });
      let channels = new Set<string>();
      let recipients = 0;
      try {
        const poll = await db.$transaction(
          async (tx) => {
            const poll = await tx.poll.create({
              data: {
                creatorId,
                question: draft.question.trim(),
                kind: draft.kind,
                options: JSON.stringify(draft.kind === 'free' ? [] : draft.options),
                anonymous: draft.anonymous,
                closesAt: draft.closesAt,
                draftKey: draft.draftKey ?? null,
                createdAt: clock.now(),
                groups: { create: draft.groupIds.map((groupId) => ({ groupId })) },
              },
            });
            const to = await outbox.recipients(tx, members.map((m) => m.personId));
            recipients = to.length;
            channels = await outbox.enqueue(tx, 'poll', to, (t, r) => render(poll, t, r.locale, names));
            await tx.auditLog.create({
              data: { actorId: creatorId, action: 'poll.created', subject: `poll:${poll.id}`, detail: JSON.stringify({ groups: draft.groupIds.length, recipients: to.length, kind: draft.kind }), createdAt: clock.now() },
            });
            return poll;
          },
          { timeout: 60_000 },
        );
        outbox.notify(channels);
        return { poll, recipients, already: false };
      } catch (error) {
        // Two confirms of one draft at once: the other one created it.
        if (draft.draftKey && (error as { code?: string }).code === 'P2002') {
          const existing = await db.poll.findUnique({ where: { draftKey: draft.draftKey } });
          if (existing) return { poll: existing, recipients: 0, already: true };
        }
        throw error;
      }
    },

    load,

    /** The poll for one of its audience (or its asker), refusing anyone else as "not found". */
    async forViewer(personId: string, pollId: string): Promise<Poll> {
      const poll = await load(pollId);
      if (!(await mayView(personId, poll))) throw new DomainError('polls:notFound');
      return poll;
    },

    /** This person's current answer, if any. */
    async myAnswer(personId: string, pollId: string): Promise<{ choices: number[]; text: string | null } | undefined> {
      const row = await db.pollAnswer.findUnique({ where: { pollId_personId: { pollId, personId } } });
      return row ? { choices: JSON.parse(row.choices) as number[], text: row.text } : undefined;
    },

    /**
     * Records (or changes) a person's answer. One row per person and poll (unique), so the
     * same person answering from Telegram and from Zalo changes one answer.
     */
    async answer(personId: string, pollId: string, given: { choices?: number[]; text?: string }): Promise<{ changed: boolean; poll: Poll }> {
      const poll = await load(pollId);
      if (!(await mayAnswer(personId, pollId))) throw new DomainError('polls:notAudience');
      if (!isOpen(poll)) throw new DomainError('polls:closed');
      let choices: number[] = [];
      let text: string | null = null;
      if (poll.kind === 'free') {
        text = (given.text ?? '').trim();
        if (!text) throw new DomainError('common:emptyText');
        if (text.length > MAX_FREE_ANSWER) throw new DomainError('common:tooLong', { length: text.length, max: MAX_FREE_ANSWER });
      } else {
        const count = optionsOf(poll).length;
        choices = [...new Set(given.choices ?? [])].filter((i) => Number.isInteger(i) && i >= 0 && i < count).sort((a, b) => a - b);
        if (!choices.length) throw new DomainError('polls:pickOne');
        if (poll.kind === 'single' && choices.length > 1) choices = choices.slice(0, 1);
      }
      const key = { pollId_personId: { pollId, personId } };
      const before = await db.pollAnswer.findUnique({ where: key, select: { id: true } });
      const data = { choices: JSON.stringify(choices), text, updatedAt: clock.now() };
      try {
        await db.pollAnswer.upsert({ where: key, create: { pollId, personId, ...data, createdAt: clock.now() }, update: data });
      } catch (error) {
        // The same person answered on two channels at the same moment: the other write won; change it.
        if ((error as { code?: string }).code !== 'P2002') throw error;
        await db.pollAnswer.update({ where: key, data });
      }
      return { changed: Boolean(before), poll };
    },

    /** Polls of this person's groups and the ones they asked, newest first. */
    async listFor(personId: string): Promise<Array<Poll & { open: boolean }>> {
      const memberships = await db.membership.findMany({ where: { personId, state: 'active' }, select: { groupId: true } });
      const polls = await db.poll.findMany({
        where: { OR: [{ creatorId: personId }, { groups: { some: { groupId: { in: memberships.map((m) => m.groupId) } } } }] },
        orderBy: { createdAt: 'desc' },
        take: 10,
      });
      return polls.map((p) => ({ ...p, open: isOpen(p) }));
    },

    async view(personId: string, pollId: string, t: T, locale: string): Promise<Outbound> {
      const poll = await service.forViewer(personId, pollId);
      const names = await groupNames(poll.id);
      if (!isOpen(poll)) return { text: resultsText(poll, await results(poll), t, names) };
      const out = render(poll, t, locale, names);
      const mine = await service.myAnswer(personId, poll.id);
      const lines = [out.text];
      if (mine) lines.push('', t('polls:yourAnswer', { answer: describeAnswer(poll, mine, t) }));
      const choices = (await mayAnswer(personId, poll.id)) ? out.choices : [];
      if (poll.creatorId === personId) lines.push('', resultsText(poll, await results(poll), t, names));
      return { text: lines.join('\n'), choices };
    },

    describeAnswer,

    /**
     * Closes the polls whose time is up: marks each closed (once, even with several instances)
     * and sends the results to everyone who answered and to the one who asked, in one transaction.
     */
    async closeDue(): Promise<number> {
      const due = await db.poll.findMany({ where: { closedAt: null, closesAt: { lte: clock.now() } }, orderBy: { closesAt: 'asc' }, take: 50 });
      let closed = 0;
      for (const poll of due) {
        const r = await results(poll);
        const names = await groupNames(poll.id);
        const answerers = await db.pollAnswer.findMany({ where: { pollId: poll.id, personId: { not: null } }, select: { personId: true } });
        const people = [...new Set([...answerers.map((a) => a.personId!), ...(poll.creatorId ? [poll.creatorId] : [])])];
        let channels = new Set<string>();
        const done = await db.$transaction(async (tx: Tx) => {
          const claimed = await tx.poll.updateMany({ where: { id: poll.id, closedAt: null }, data: { closedAt: clock.now() } });
          if (!claimed.count) return false;
          const closedPoll = { ...poll, closedAt: clock.now() };
          channels = await outbox.enqueue(tx, 'poll_results', await outbox.recipients(tx, people), (t) => ({ text: resultsText(closedPoll, r, t, names) }));
          return true;
        });
        if (done) {
          outbox.notify(channels);
          closed += 1;
        }
      }
      return closed;
    },

    /**
     * The console's consultations: polls asked to groups this person may ask (leaders and deputies:
     * theirs; officers: their areas; admins: all) and the ones they asked, newest first.
     */
    async consoleList(personId: string, take = 100): Promise<Array<{ poll: Poll; open: boolean; groups: string[]; answers: number }>> {
      const actor = await actors.actor(personId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      const leaderOf = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      const polls = await db.poll.findMany({
        where: actor.admin ? {} : { OR: [{ creatorId: personId }, { groups: { some: { OR: [{ groupId: { in: leaderOf } }, { group: { areaId: { in: areaIds } } }] } } }] },
        include: { groups: { include: { group: { select: { name: true } } } }, _count: { select: { answers: true } } },
        orderBy: { createdAt: 'desc' },
        take,
      });
      return polls.map(({ groups, _count, ...poll }) => ({ poll, open: isOpen(poll), groups: groups.map((g) => g.group.name).sort(), answers: _count.answers }));
    },

    /**
     * One poll for the console: its asker and those who may ask its groups read the results (so far,
     * or final); anyone else is refused as "not found". Results are counts and unsigned free answers
     * (names only where the poll was asked openly, as in the bot).
     */
    async consoleView(personId: string, pollId: string): Promise<{ poll: Poll; open: boolean; groups: string[]; options: string[]; results: PollResults }> {
      const poll = await load(pollId);
      let allowed = poll.creatorId === personId;
      const actor = await actors.actor(personId);
      const groups = await db.pollGroup.findMany({ where: { pollId }, include: { group: { select: { name: true, areaId: true } } } });
      for (const g of groups) {
        if (allowed) break;
        allowed = can(actor, 'group.consult', { kind: 'group', groupId: g.groupId, areaChain: await actors.areaChain(g.group.areaId) });
      }
      if (!allowed) throw new DomainError('polls:notFound');
      return { poll, open: isOpen(poll), groups: groups.map((g) => g.group.name).sort(), options: optionsOf(poll), results: await results(poll) };
    },

    /** Polls closed in [from, to) asked to any of these groups, with their results (the monthly account). */
    async closedBetween(groupIds: string[], from: Date, to: Date): Promise<Array<{ poll: Poll; results: PollResults }>> {
      const polls = await db.poll.findMany({
        where: { closedAt: { gte: from, lt: to }, groups: { some: { groupId: { in: groupIds } } } },
        orderBy: { closedAt: 'asc' },
      });
      return Promise.all(polls.map(async (poll) => ({ poll, results: await results(poll) })));
    },
  };

  function describeAnswer(poll: Poll, answer: { choices: number[]; text: string | null }, t: T): string {
    if (poll.kind === 'free') return answer.text ?? '';
    const options = optionsOf(poll);
    return answer.choices.map((i) => options[i]).filter(Boolean).join(', ') || t('polls:nothingPicked');
  }

  return service;
}

export type PollService = ReturnType<typeof createPollService>;
