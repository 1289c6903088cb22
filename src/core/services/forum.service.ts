/**
 * Listening forums (lắng nghe ý kiến nhân dân): an officer or leader opens a topic for a period
 * ("an ninh trật tự khu phố tháng 12"); members send opinions, anonymous unless they choose to
 * sign; handlers read them grouped by the words they share, the most-raised concerns first (no
 * external service: shared syllable pairs and words, see groupOpinions), answer a selection
 * publicly to everyone who took part, and close the forum with a summary sent to them too.
 * An anonymous opinion's writer is never shown to anyone.
 */
import type { Choice, Outbound } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import { can } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import { formatTime } from '../format.js';
import type { Db } from './db.js';
import type { Outbox, Tx } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import type { Forum, ForumOpinion } from '../../generated/prisma/client.js';

export const MAX_TOPIC = 200;
export const MAX_OPINION = 1000;
export const MAX_FORUM_ANSWER = 1500;
export const MAX_SUMMARY = 2000;
const MIN_OPEN_MS = 60 * 60_000;
const MAX_OPEN_MS = 60 * 86_400_000;

type T = (key: string, params?: Record<string, unknown>) => string;

export interface ForumDraft {
  groupIds: string[];
  topic: string;
  closesAt: Date;
  draftKey?: string;
}

/** Words that say nothing about the concern (Vietnamese and English), left out when grouping. */
const STOPWORDS = new Set(
  (
    'và với của là có không thì mà ở cho các những một này đó kia được bị rất quá cũng đã đang sẽ nên cần phải ' +
    'tôi chúng ta mình em anh chị ông bà họ người ai gì nào khi lúc thế vậy như để từ ra vào lên xuống lại ' +
    'còn hay hoặc nhưng vì nếu đến tại trong ngoài trên dưới sau trước nhiều ít hơn nhất mới cái chiếc việc ' +
    'the a an and or of to in on at for with is are was be it this that there not no very too please'
  ).split(' '),
);

/** The words of an opinion, lower case, punctuation removed, stopwords out. */
export function words(text: string): string[] {
  return text
    .toLocaleLowerCase('vi')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));
}

/** Syllable pairs ("đèn đường", "xe máy"): Vietnamese words are mostly two syllables. */
function pairs(ws: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < ws.length; i++) out.push(`${ws[i]} ${ws[i + 1]}`);
  return out;
}

export interface OpinionGroup<O> {
  /** The words the opinions of this group share most ("đèn đường"). */
  label: string;
  opinions: O[];
}

/**
 * Groups opinions that raise the same concern: an opinion joins the first group with which it
 * shares a syllable pair, or two words; groups are ordered by size (most raised first), then by
 * when their first opinion came.
 */
export function groupOpinions<O extends { text: string }>(opinions: O[]): OpinionGroup<O>[] {
  const groups: Array<{ pairs: Map<string, number>; words: Map<string, number>; opinions: O[] }> = [];
  const add = (m: Map<string, number>, keys: string[]) => new Set(keys).forEach((k) => m.set(k, (m.get(k) ?? 0) + 1));
  for (const o of opinions) {
    const ws = words(o.text);
    const ps = pairs(ws);
    const found = groups.find((g) => ps.some((p) => g.pairs.has(p)) || new Set(ws.filter((w) => g.words.has(w))).size >= 2);
    if (found) {
      found.opinions.push(o);
      add(found.pairs, ps);
      add(found.words, ws);
    } else {
      const g = { pairs: new Map<string, number>(), words: new Map<string, number>(), opinions: [o] };
      add(g.pairs, ps);
      add(g.words, ws);
      groups.push(g);
    }
  }
  const labelOf = (g: (typeof groups)[number]): string => {
    const shared = (m: Map<string, number>) => [...m.entries()].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1]);
    const p = shared(g.pairs)[0];
    if (p) return p[0];
    const w = shared(g.words).slice(0, 2).map(([k]) => k);
    if (w.length) return w.join(', ');
    return words(g.opinions[0]!.text).slice(0, 3).join(' ');
  };
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => b.g.opinions.length - a.g.opinions.length || a.i - b.i)
    .map(({ g }) => ({ label: labelOf(g), opinions: g.opinions }));
}

export function createForumService(deps: { db: Db; outbox: Outbox; actors: ActorService; clock: Clock }) {
  const { db, outbox, actors, clock } = deps;
  const now = () => clock.now();
  const isOpen = (f: Pick<Forum, 'closesAt' | 'closedAt'>) => !f.closedAt && f.closesAt > now();

  async function load(id: string): Promise<Forum> {
    const f = await db.forum.findUnique({ where: { id } });
    if (!f) throw new DomainError('forums:notFound');
    return f;
  }

  async function groupsOf(forumId: string) {
    return db.forumGroup.findMany({ where: { forumId }, include: { group: { select: { name: true, areaId: true } } } });
  }

  /** The forum's handlers: those who may ask its groups (leaders, deputies, officers, admins). */
  async function mayHandle(personId: string, forumId: string): Promise<boolean> {
    const actor = await actors.actor(personId);
    for (const g of await groupsOf(forumId)) {
      if (can(actor, 'group.consult', { kind: 'group', groupId: g.groupId, areaChain: await actors.areaChain(g.group.areaId) })) return true;
    }
    return false;
  }

  async function handled(personId: string, forumId: string): Promise<Forum> {
    const f = await load(forumId);
    if (!(await mayHandle(personId, forumId))) throw new DomainError('forums:notFound');
    return f;
  }

  async function mayTakePart(personId: string, forumId: string): Promise<boolean> {
    const actor = await actors.actor(personId);
    return (await groupsOf(forumId)).some((g) => can(actor, 'group.answer', { kind: 'group', groupId: g.groupId, areaChain: [] }));
  }

  async function participants(tx: Tx, forumId: string): Promise<string[]> {
    const rows = await tx.forumOpinion.findMany({ where: { forumId, personId: { not: null } }, select: { personId: true } });
    return [...new Set(rows.map((r) => r.personId!))];
  }

  function announcement(f: Pick<Forum, 'id' | 'topic' | 'closesAt'>, t: T, locale: string, names: string): Outbound {
    return {
      text: [t('forums:header', { groups: names }), '', f.topic, '', t('forums:howTo', { max: MAX_OPINION }), t('forums:until', { time: formatTime(f.closesAt, locale) })].join('\n'),
      choices: [[{ id: `f:${f.id}:say`, label: t('forums:sayButton') }]],
    };
  }

  const service = {
    isOpen,
    now,

    /** Refuses (as "not found") anyone who does not handle the forum. */
    async assertHandler(personId: string, forumId: string): Promise<Forum> {
      return handled(personId, forumId);
    },

    /** Opens a forum: the forum, its groups and the announcement to every member, in one transaction. */
    async open(creatorId: string, draft: ForumDraft): Promise<{ forum: Forum; recipients: number; already: boolean }> {
      if (draft.draftKey) {
        const existing = await db.forum.findUnique({ where: { draftKey: draft.draftKey } });
        if (existing) return { forum: existing, recipients: 0, already: true };
      }
      const topic = draft.topic.trim();
      if (!topic || topic.length > MAX_TOPIC) throw new DomainError('forums:topicInvalid', { max: MAX_TOPIC });
      const left = draft.closesAt.getTime() - now().getTime();
      if (left < MIN_OPEN_MS) throw new DomainError('forums:closesTooSoon');
      if (left > MAX_OPEN_MS) throw new DomainError('forums:closesTooLate', { days: MAX_OPEN_MS / 86_400_000 });
      if (!draft.groupIds.length) throw new DomainError('polls:noGroups');
      const actor = await actors.actor(creatorId);
      const groups = await db.group.findMany({ where: { id: { in: draft.groupIds } } });
      if (groups.length !== new Set(draft.groupIds).size) throw new DomainError('polls:noGroups');
      for (const g of groups) {
        if (!can(actor, 'group.consult', { kind: 'group', groupId: g.id, areaChain: await actors.areaChain(g.areaId) })) throw new DomainError('polls:forbiddenGroup', { group: g.name });
      }
      const names = groups.map((g) => g.name).sort().join(', ');
      const members = await db.membership.findMany({ where: { groupId: { in: draft.groupIds }, state: 'active', person: { deletedAt: null } }, select: { personId: true } });
      let channels = new Set<string>();
      let recipients = 0;
      const forum = await db.$transaction(
        async (tx) => {
          const forum = await tx.forum.create({
            data: { creatorId, topic, closesAt: draft.closesAt, draftKey: draft.draftKey ?? null, createdAt: now(), groups: { create: draft.groupIds.map((groupId) => ({ groupId })) } },
          });
          const to = await outbox.recipients(tx, members.map((m) => m.personId));
          recipients = to.length;
          channels = await outbox.enqueue(tx, 'forum', to, (t, r) => announcement(forum, t, r.locale, names));
          await tx.auditLog.create({ data: { actorId: creatorId, action: 'forum.opened', subject: `forum:${forum.id}`, createdAt: now() } });
          return forum;
        },
        { timeout: 60_000 },
      );
      outbox.notify(channels);
      return { forum, recipients, already: false };
    },

    /** The forum for someone who may send an opinion to it ("not found" for anyone else). */
    async forParticipant(personId: string, forumId: string): Promise<Forum> {
      const f = await load(forumId);
      if (!(await mayTakePart(personId, forumId))) throw new DomainError('forums:notFound');
      return f;
    },

    /** Records an opinion (anonymous unless the person chose to sign it). */
    async say(personId: string, forumId: string, text: string, anonymous: boolean): Promise<ForumOpinion> {
      const f = await service.forParticipant(personId, forumId);
      if (!isOpen(f)) throw new DomainError('forums:closed');
      const body = text.trim();
      if (!body) throw new DomainError('common:emptyText');
      if (body.length > MAX_OPINION) throw new DomainError('common:tooLong', { length: body.length, max: MAX_OPINION });
      return db.forumOpinion.create({ data: { forumId, personId, anonymous, text: body, createdAt: now() } });
    },

    /** What handlers read: opinions grouped by concern, most raised first, numbered; names only where signed. */
    async handlerView(personId: string, forumId: string, t: T, locale: string): Promise<Outbound> {
      const f = await handled(personId, forumId);
      const opinions = await db.forumOpinion.findMany({ where: { forumId }, orderBy: { createdAt: 'asc' }, include: { person: { select: { displayName: true } } } });
      const numbered = opinions.map((o, i) => ({ ...o, n: i + 1 }));
      const lines = [t('forums:handlerTitle', { topic: f.topic, count: opinions.length }), t(isOpen(f) ? 'forums:until' : 'forums:closedAt', { time: formatTime(f.closedAt ?? f.closesAt, locale) })];
      for (const g of groupOpinions(numbered)) {
        lines.push('', t('forums:concern', { label: g.label, count: g.opinions.length }));
        for (const o of g.opinions) {
          const who = o.anonymous ? '' : ` — ${o.person?.displayName ?? t('forums:someone')}`;
          lines.push(`${o.n}. ${o.text}${who}${o.answer ? ` ${t('forums:answeredMark')}` : ''}`);
        }
      }
      const choices: Choice[][] = [];
      if (!f.closedAt) {
        choices.push([{ id: `f:${f.id}:answer`, label: t('forums:answerButton') }]);
        choices.push([{ id: `f:${f.id}:close`, label: t('forums:closeButton') }]);
      }
      return { text: lines.join('\n'), choices };
    },

    /**
     * The same as handlerView, as data for the console: opinions numbered in the order they came
     * (the numbers `answer` takes), grouped by concern, most raised first; the writer only where signed.
     */
    async handlerData(personId: string, forumId: string) {
      const f = await handled(personId, forumId);
      const [opinions, groups] = await Promise.all([
        db.forumOpinion.findMany({ where: { forumId }, orderBy: { createdAt: 'asc' }, include: { person: { select: { displayName: true } } } }),
        groupsOf(forumId),
      ]);
      const numbered = opinions.map((o, i) => ({ n: i + 1, text: o.text, signedBy: o.anonymous ? null : (o.person?.displayName ?? ''), answer: o.answer, answeredAt: o.answeredAt, createdAt: o.createdAt }));
      return { forum: f, open: isOpen(f), groups: groups.map((g) => g.group.name).sort(), count: opinions.length, concerns: groupOpinions(numbered) };
    },

    /** Answers some opinions (by their numbers) publicly: to everyone who took part. */
    async answer(personId: string, forumId: string, numbers: number[], answer: string): Promise<number> {
      const f = await handled(personId, forumId);
      if (f.closedAt) throw new DomainError('forums:closed');
      const opinions = await db.forumOpinion.findMany({ where: { forumId }, orderBy: { createdAt: 'asc' } });
      const picked = [...new Set(numbers)].map((n) => opinions[n - 1]).filter((o): o is ForumOpinion => Boolean(o));
      if (!picked.length) throw new DomainError('forums:pickNumbers', { max: opinions.length });
      const text = answer.trim();
      if (!text) throw new DomainError('common:emptyText');
      let channels = new Set<string>();
      await db.$transaction(async (tx) => {
        await tx.forumOpinion.updateMany({ where: { id: { in: picked.map((o) => o.id) } }, data: { answer: text, answeredAt: now() } });
        channels = await outbox.enqueue(tx, 'forum', await outbox.recipients(tx, await participants(tx, forumId)), (t) => ({
          text: [t('forums:publicAnswerTitle', { topic: f.topic }), ...picked.map((o) => `• ${o.text}`), '', t('forums:publicAnswer', { text })].join('\n'),
        }));
      });
      outbox.notify(channels);
      return picked.length;
    },

    /** Closes the forum with a summary, sent to everyone who took part. */
    async close(personId: string, forumId: string, summary: string): Promise<Forum> {
      const f = await handled(personId, forumId);
      if (f.closedAt) throw new DomainError('forums:closed');
      const text = summary.trim();
      if (!text) throw new DomainError('common:emptyText');
      const count = await db.forumOpinion.count({ where: { forumId } });
      let channels = new Set<string>();
      const closed = await db.$transaction(async (tx) => {
        const claimed = await tx.forum.updateMany({ where: { id: forumId, closedAt: null }, data: { closedAt: now(), summary: text } });
        if (!claimed.count) throw new DomainError('forums:closed');
        channels = await outbox.enqueue(tx, 'forum', await outbox.recipients(tx, await participants(tx, forumId)), (t) => ({
          text: [t('forums:summaryTitle', { topic: f.topic, count }), '', text].join('\n'),
        }));
        return tx.forum.findUniqueOrThrow({ where: { id: forumId } });
      });
      outbox.notify(channels);
      return closed;
    },

    /** Forums this person handles, newest first. */
    async handledBy(personId: string, take = 10): Promise<Forum[]> {
      const actor = await actors.actor(personId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      const leaderOf = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      return db.forum.findMany({
        where: actor.admin ? {} : { groups: { some: { OR: [{ groupId: { in: leaderOf } }, { group: { areaId: { in: areaIds } } }] } } },
        orderBy: { createdAt: 'desc' },
        take,
      });
    },

    /** How many opinions each of these forums has (the console's list). */
    async opinionCounts(forumIds: string[]): Promise<Map<string, number>> {
      const rows = await db.forumOpinion.groupBy({ by: ['forumId'], where: { forumId: { in: forumIds } }, _count: { _all: true } });
      return new Map(rows.map((r) => [r.forumId, r._count._all]));
    },

    /** Open forums of this person's groups, newest first. */
    async openFor(personId: string): Promise<Forum[]> {
      const memberships = await db.membership.findMany({ where: { personId, state: 'active' }, select: { groupId: true } });
      return db.forum.findMany({
        where: { closedAt: null, closesAt: { gt: now() }, groups: { some: { groupId: { in: memberships.map((m) => m.groupId) } } } },
        orderBy: { createdAt: 'desc' },
        take: 10,
      });
    },
  };
  return service;
}

export type ForumService = ReturnType<typeof createForumService>;
