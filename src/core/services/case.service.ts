/**
 * Cases: from a resident's report to resolution. Every change writes a case event and
 * queues its notifications in the same transaction. Handlers never receive an anonymous
 * reporter's identity: they see the per-case alias only.
 */
import type { Outbound } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import type { Translator } from '../ports/translator.js';
import { can, OPEN_STATUSES, type CaseAction, type CaseResource } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import { randomCode } from '../codes.js';
import { excerpt, formatTime } from '../format.js';
import type { Db } from './db.js';
import type { Outbox, Recipient, Tx } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import { CATEGORY_KEYS, LEVEL_KEYS, NEXT_LEVEL, POLICE_CATEGORIES, STATUS_KEYS, type Category } from './case.catalog.js';
import type { Case, Person } from '../../generated/prisma/client.js';

export interface CaseDraft {
  groupId: string;
  category: Category;
  urgent: boolean;
  description: string;
  photoMediaId?: string;
  latitude?: number;
  longitude?: number;
  placeText?: string;
  anonymous: boolean;
}

export interface CaseServiceDeps {
  db: Db;
  outbox: Outbox;
  actors: ActorService;
  translator: Translator;
  clock: Clock;
  /** https base URL for media links; without it, Zalo handlers are told to open the web chat. */
  publicUrl?: string;
  escalation: { urgentMs: number; normalMs: number };
}

type T = (key: string, params?: Record<string, unknown>) => string;
type CaseWithContext = Case & { reporter: Person | null; group: { name: string } | null; area: { name: string } };

export function createCaseService(deps: CaseServiceDeps) {
  const { db, outbox, actors, clock } = deps;
  const now = () => clock.now();
  const timerFor = (c: { category: string; urgent: boolean }) =>
    new Date(now().getTime() + (POLICE_CATEGORIES.has(c.category) || c.urgent ? deps.escalation.urgentMs : deps.escalation.normalMs));

  async function load(caseId: string): Promise<CaseWithContext> {
    const c = await db.case.findUnique({ where: { id: caseId }, include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } } });
    if (!c) throw new DomainError('cases:notFound');
    return c;
  }

  async function resourceOf(c: Case): Promise<CaseResource> {
    return {
      kind: 'case',
      reporterId: c.reporterId,
      groupId: c.groupId,
      areaChain: await actors.areaChain(c.areaId),
      level: c.level as CaseResource['level'],
      status: c.status,
    };
  }

  /** Loads the case and checks the action; refusals are DomainErrors the person reads. */
  async function authorize(personId: string, action: CaseAction, caseId: string): Promise<CaseWithContext> {
    const c = await load(caseId);
    const actor = await actors.actor(personId);
    const resource = await resourceOf(c);
    if (!can(actor, action, resource)) {
      // "Not now" only for someone who could do it in another state; everyone else is simply not allowed.
      const sameRole = action === 'case.addInfo' || action === 'case.confirmFixed' ? can(actor, 'case.view', resource) && c.reporterId === personId : can(actor, 'case.handle', resource);
      throw new DomainError(sameRole ? 'cases:notNow' : 'cases:forbidden', { ref: c.ref });
    }
    return c;
  }

  /** Who handles a case at a level: group leaders/deputies (plus ward police for police matters), or the officers of the ward or district. */
  async function levelHandlers(tx: Tx, c: Pick<Case, 'groupId' | 'areaId' | 'level' | 'category' | 'urgent'>): Promise<string[]> {
    const ids: string[] = [];
    const officersOf = async (areaId: string | null | undefined) =>
      areaId ? (await tx.roleGrant.findMany({ where: { role: 'officer', areaId, revokedAt: null }, select: { personId: true } })).map((g) => g.personId) : [];
    if (c.level === 'group') {
      if (c.groupId) {
        const leaders = await tx.membership.findMany({ where: { groupId: c.groupId, state: 'active', role: { in: ['leader', 'deputy'] } }, select: { personId: true } });
        ids.push(...leaders.map((l) => l.personId));
      }
      if (POLICE_CATEGORIES.has(c.category) || c.urgent) ids.push(...(await officersOf(c.areaId)));
    } else if (c.level === 'ward') {
      ids.push(...(await officersOf(c.areaId)));
    } else {
      const ward = await tx.area.findUnique({ where: { id: c.areaId }, select: { parentId: true } });
      ids.push(...(await officersOf(ward?.parentId)));
    }
    return [...new Set(ids)];
  }

  /** The handlers of the current level and everyone who has acted on the case. */
  async function involvedHandlers(tx: Tx, c: Case): Promise<string[]> {
    const acted = await tx.caseEvent.findMany({ where: { caseId: c.id, actorId: { not: null } }, select: { actorId: true } });
    const ids = new Set([...(await levelHandlers(tx, c)), ...acted.map((e) => e.actorId!)]);
    if (c.reporterId) ids.delete(c.reporterId);
    return [...ids];
  }

  /** How handlers see the reporter: alias when anonymous, "deleted person" when erased, else the name. */
  function reporterLabel(c: CaseWithContext, t: T): string {
    if (c.anonymous) return t('cases:anonymousReporter', { alias: c.alias });
    if (!c.reporter || c.reporter.deletedAt) return t('cases:deletedReporter');
    return c.reporter.displayName ?? t('cases:namelessReporter');
  }

  function photoNote(c: Case, r: Recipient, t: T): string | undefined {
    if (!c.photoMediaId) return undefined;
    if (deps.publicUrl) return t('common:photoLink', { url: `${deps.publicUrl}/media/${c.photoMediaId}` });
    return r.account.channel === 'zalo' ? t('common:photoNoLink') : undefined;
  }

  function openButton(c: Case, t: T) {
    return [[{ id: `c:${c.id}:open`, label: t('cases:openCase', { ref: c.ref }) }]];
  }

  /** Queues a message about the case to handlers (never including the reporter's identity). */
  async function tellHandlers(tx: Tx, c: CaseWithContext, personIds: string[], say: (t: T) => string, withPhoto = false) {
    const recipients = await outbox.recipients(tx, personIds);
    return outbox.enqueue(tx, 'case', recipients, (t, r) => {
      const note = withPhoto ? photoNote(c, r, t) : undefined;
      const out: Outbound = { text: [say(t), note].filter(Boolean).join('\n'), choices: openButton(c, t) };
      if (withPhoto && c.photoMediaId && !(r.account.channel === 'zalo' && !deps.publicUrl)) out.photo = { mediaId: c.photoMediaId };
      return out;
    });
  }

  /** Queues a message to the reporter, in their language, with optional answer buttons. */
  async function tellReporter(tx: Tx, c: Case, say: (t: T) => string, choices?: (t: T) => Outbound['choices']) {
    if (!c.reporterId) return new Set<string>();
    const recipients = await outbox.recipients(tx, [c.reporterId]);
    return outbox.enqueue(tx, 'case', recipients, (t) => ({ text: say(t), choices: choices?.(t) }));
  }

  const statusText = (t: T, c: Case) => t(STATUS_KEYS[c.status] ?? 'cases:status_new');
  const categoryText = (t: T, c: Case) => t(CATEGORY_KEYS[c.category as Category] ?? 'report:cat_other');

  async function uniqueRef(tx: Tx): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const ref = `PA-${randomCode(attempt < 10 ? 4 : 5)}`;
      if (!(await tx.case.findUnique({ where: { ref }, select: { id: true } }))) return ref;
    }
    throw new Error('could not find a free case reference');
  }

  /** Runs a change in one transaction and wakes the delivery workers afterwards. */
  async function change<R>(fn: (tx: Tx, queued: Set<string>) => Promise<R>): Promise<R> {
    const queued = new Set<string>();
    const result = await db.$transaction((tx) => fn(tx, queued), { timeout: 20_000 });
    outbox.notify(queued);
    return result;
  }
  const merge = (into: Set<string>, from: Set<string>) => from.forEach((c) => into.add(c));

  async function event(tx: Tx, caseId: string, actorId: string | null, type: string, detail: Record<string, unknown> = {}) {
    await tx.caseEvent.create({ data: { caseId, actorId, type, detail: JSON.stringify(detail), createdAt: now() } });
  }

  const service = {
    /** Files a report: the case, its first event, and notifications to its handlers, in one transaction. */
    async create(reporterId: string, draft: CaseDraft): Promise<{ case: Case; handlers: 'leaders' | 'leadersAndPolice'; handlerCount: number }> {
      const group = await db.group.findUnique({ where: { id: draft.groupId } });
      if (!group) throw new DomainError('report:noGroup');
      const actor = await actors.actor(reporterId);
      if (!actor.memberships.some((m) => m.groupId === group.id)) throw new DomainError('report:noGroup');
      let handlerCount = 0;
      const created = await change(async (tx, queued) => {
        const c = await tx.case.create({
          data: {
            ref: await uniqueRef(tx),
            alias: randomCode(4),
            reporterId,
            anonymous: draft.anonymous,
            groupId: group.id,
            areaId: group.areaId,
            category: draft.category,
            urgent: draft.urgent,
            description: draft.description,
            photoMediaId: draft.photoMediaId ?? null,
            latitude: draft.latitude ?? null,
            longitude: draft.longitude ?? null,
            placeText: draft.placeText ?? null,
            escalateAt: timerFor(draft),
            createdAt: now(),
          },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, reporterId, 'created', { anonymous: draft.anonymous });
        const handlers = await levelHandlers(tx, c);
        handlerCount = handlers.length;
        merge(queued, await tellHandlers(tx, c, handlers, (t) => newCaseText(c, t), true));
        return c;
      });
      const police = POLICE_CATEGORIES.has(draft.category) || draft.urgent;
      return { case: created, handlers: police ? 'leadersAndPolice' : 'leaders', handlerCount };
    },

    async acknowledge(actorId: string, caseId: string): Promise<Case> {
      const c = await authorize(actorId, 'case.acknowledge', caseId);
      return change(async (tx, queued) => {
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: 'acknowledged', acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null },
        });
        await event(tx, c.id, actorId, 'acknowledged');
        merge(queued, await tellReporter(tx, updated, (t) => t('cases:toReporterAcknowledged', { ref: c.ref })));
        return updated;
      });
    },

    /** A question or reply from a handler to the reporter; the reporter can answer with the button. */
    async ask(actorId: string, caseId: string, text: string): Promise<Case> {
      const c = await authorize(actorId, 'case.ask', caseId);
      return change(async (tx, queued) => {
        await tx.caseMessage.create({ data: { caseId: c.id, authorId: actorId, fromReporter: false, text, createdAt: now() } });
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: 'waiting_reporter', acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null },
        });
        await event(tx, c.id, actorId, 'asked');
        merge(
          queued,
          await tellReporter(
            tx,
            updated,
            (t) => t('cases:toReporterQuestion', { ref: c.ref, text }),
            (t) => [[{ id: `c:${c.id}:reply`, label: t('cases:replyButton') }]],
          ),
        );
        return updated;
      });
    },

    async note(actorId: string, caseId: string, text: string): Promise<void> {
      const c = await authorize(actorId, 'case.note', caseId);
      await change(async (tx) => {
        await tx.caseMessage.create({ data: { caseId: c.id, authorId: actorId, fromReporter: false, internal: true, text, createdAt: now() } });
        await event(tx, c.id, actorId, 'noted');
      });
    },

    async resolve(actorId: string, caseId: string, text: string): Promise<Case> {
      const c = await authorize(actorId, 'case.resolve', caseId);
      return change(async (tx, queued) => {
        await tx.caseMessage.create({ data: { caseId: c.id, authorId: actorId, fromReporter: false, text, createdAt: now() } });
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: 'resolved', resolvedAt: now(), acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null },
        });
        await event(tx, c.id, actorId, 'resolved', { note: text });
        merge(
          queued,
          await tellReporter(
            tx,
            updated,
            (t) => t('cases:toReporterResolved', { ref: c.ref, text }),
            (t) => [[{ id: `c:${c.id}:fixed`, label: t('cases:fixedButton') }], [{ id: `c:${c.id}:notfixed`, label: t('cases:notFixedButton') }]],
          ),
        );
        return updated;
      });
    },

    async markDuplicate(actorId: string, caseId: string, otherRefTyped: string): Promise<Case> {
      const c = await authorize(actorId, 'case.duplicate', caseId);
      const ref = normaliseRef(otherRefTyped);
      const other = await db.case.findUnique({ where: { ref } });
      if (!other || other.id === c.id) throw new DomainError('cases:duplicateNotFound', { ref: otherRefTyped.slice(0, 20) });
      if (!can(await actors.actor(actorId), 'case.view', await resourceOf(other))) throw new DomainError('cases:duplicateNotFound', { ref });
      return change(async (tx, queued) => {
        const updated = await tx.case.update({ where: { id: c.id }, data: { status: 'duplicate', duplicateOfId: other.id, escalateAt: null, closedAt: now() } });
        await event(tx, c.id, actorId, 'duplicate', { of: other.ref });
        merge(queued, await tellReporter(tx, updated, (t) => t('cases:toReporterDuplicate', { ref: c.ref, other: other.ref })));
        return updated;
      });
    },

    /** One level up (by a handler, or by the timer when `actorId` is null). */
    async escalate(actorId: string | null, caseId: string, reason: 'handler' | 'timeout' = 'handler'): Promise<Case> {
      const c = actorId ? await authorize(actorId, 'case.escalate', caseId) : await load(caseId);
      const next = NEXT_LEVEL[c.level];
      if (!next) throw new DomainError('cases:notNow', { ref: c.ref });
      return change(async (tx, queued) => {
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { level: next, escalateAt: c.status === 'new' || c.status === 'reopened' ? timerFor(c) : null },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, actorId, 'escalated', { to: next, reason });
        const handlers = (await levelHandlers(tx, updated)).filter((id) => id !== actorId);
        merge(
          queued,
          await tellHandlers(tx, updated, handlers, (t) =>
            [t(reason === 'timeout' ? 'cases:escalatedTimeout' : 'cases:escalatedByHandler', { ref: c.ref, level: t(LEVEL_KEYS[next]!) }), newCaseText(updated, t)].join('\n\n'),
            true,
          ),
        );
        merge(queued, await tellReporter(tx, updated, (t) => t('cases:toReporterEscalated', { ref: c.ref })));
        return updated;
      });
    },

    async reopen(actorId: string, caseId: string): Promise<Case> {
      const c = await authorize(actorId, 'case.reopen', caseId);
      return change(async (tx, queued) => {
        const updated = await tx.case.update({ where: { id: c.id }, data: { status: 'reopened', closedAt: null, resolvedAt: null, duplicateOfId: null, escalateAt: timerFor(c) } });
        await event(tx, c.id, actorId, 'reopened');
        merge(queued, await tellReporter(tx, updated, (t) => t('cases:toReporterReopened', { ref: c.ref })));
        return updated;
      });
    },

    /** The reporter adds information or answers a question; it reaches every handler involved. */
    async reporterMessage(personId: string, caseId: string, text: string, photoMediaId?: string): Promise<Case> {
      const c = await authorize(personId, 'case.addInfo', caseId);
      return change(async (tx, queued) => {
        await tx.caseMessage.create({ data: { caseId: c.id, authorId: personId, fromReporter: true, text, photoMediaId: photoMediaId ?? null, createdAt: now() } });
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: c.status === 'waiting_reporter' ? 'acknowledged' : c.status },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, personId, 'reporter_message');
        const withPhoto = { ...updated, photoMediaId: photoMediaId ?? null };
        merge(
          queued,
          await tellHandlers(tx, withPhoto, await involvedHandlers(tx, updated), (t) => t('cases:reporterWrote', { ref: c.ref, reporter: reporterLabel(updated, t), text }), Boolean(photoMediaId)),
        );
        return updated;
      });
    },

    /** After "resolved": fixed closes the case; not fixed records it and puts it back in the queue. */
    async confirmFixed(personId: string, caseId: string, fixed: boolean): Promise<Case> {
      const c = await authorize(personId, 'case.confirmFixed', caseId);
      return change(async (tx, queued) => {
        if (fixed) {
          const updated = await tx.case.update({ where: { id: c.id }, data: { status: 'closed', closedAt: now(), escalateAt: null } });
          await event(tx, c.id, personId, 'closed');
          return updated;
        }
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: 'reopened', resolvedAt: null, escalateAt: timerFor(c) },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, personId, 'closed_not_fixed');
        merge(queued, await tellHandlers(tx, updated, await involvedHandlers(tx, updated), (t) => t('cases:notFixedToHandlers', { ref: c.ref })));
        return updated;
      });
    },

    /** Escalates every unacknowledged case whose timer ran out; returns how many moved. */
    async escalateOverdue(): Promise<number> {
      const due = await db.case.findMany({
        where: { status: { in: ['new', 'reopened'] }, escalateAt: { lte: now() } },
        select: { id: true, level: true },
        take: 200,
      });
      let moved = 0;
      for (const c of due) {
        if (!NEXT_LEVEL[c.level]) {
          await db.case.update({ where: { id: c.id }, data: { escalateAt: null } });
          continue;
        }
        await service.escalate(null, c.id, 'timeout');
        moved++;
      }
      return moved;
    },

    /** Open cases this person may handle: most urgent first, then newest. */
    async queue(personId: string): Promise<Case[]> {
      const actor = await actors.actor(personId);
      const leaderGroups = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      const areas = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      if (!actor.admin && !leaderGroups.length && !areas.length) return [];
      return db.case.findMany({
        where: {
          status: { in: [...OPEN_STATUSES] },
          ...(actor.admin ? {} : { OR: [{ groupId: { in: leaderGroups } }, { areaId: { in: areas } }] }),
        },
        orderBy: [{ urgent: 'desc' }, { createdAt: 'desc' }],
        take: 100,
      });
    },

    async isHandlerAnywhere(personId: string): Promise<boolean> {
      const actor = await actors.actor(personId);
      return actor.admin || actor.officerAreaIds.length > 0 || actor.memberships.some((m) => m.role !== 'member');
    },

    mine(personId: string): Promise<Case[]> {
      return db.case.findMany({ where: { reporterId: personId }, orderBy: { createdAt: 'desc' }, take: 50 });
    },

    /** The case as a handler sees it: never the anonymous reporter's identity. */
    async handlerView(personId: string, caseId: string, t: T, locale: string): Promise<{ case: Case; text: string; photoMediaId: string | null }> {
      const c = await authorize(personId, 'case.handle', caseId);
      const messages = await db.caseMessage.findMany({ where: { caseId: c.id }, orderBy: { createdAt: 'desc' }, take: 8 });
      const lines = [
        t('cases:detailHeader', { ref: c.ref, category: categoryText(t, c) }) + (c.urgent ? ' ' + t('cases:urgentMark') : ''),
        t('cases:detailStatus', { status: statusText(t, c), level: t(LEVEL_KEYS[c.level] ?? 'cases:level_group') }),
        t('cases:detailReporter', { reporter: reporterLabel(c, t) }),
        t('cases:detailPlace', { group: c.group?.name ?? '', area: c.area.name }),
        t('cases:detailCreated', { time: formatTime(c.createdAt, locale) }),
        locationLine(c, t),
        '',
        c.description,
      ];
      if (messages.length) {
        lines.push('', t('cases:threadTitle'));
        for (const m of messages.reverse()) {
          const who = m.fromReporter ? reporterLabel(c, t) : m.internal ? t('cases:internalNoteMark') : t('cases:handlerMark');
          lines.push(`• ${who}: ${excerpt(m.text, 300)}`);
        }
      }
      return { case: c, text: lines.filter((l) => l !== undefined).join('\n'), photoMediaId: c.photoMediaId };
    },

    /** The case as its reporter sees it: status and what handlers said to them (no internal notes). */
    async reporterView(personId: string, caseId: string, t: T, locale: string): Promise<{ case: Case; text: string }> {
      const c = await load(caseId);
      if (c.reporterId !== personId) throw new DomainError('cases:forbidden', { ref: c.ref });
      const messages = await db.caseMessage.findMany({ where: { caseId: c.id, internal: false }, orderBy: { createdAt: 'desc' }, take: 8 });
      const lines = [
        t('cases:detailHeader', { ref: c.ref, category: categoryText(t, c) }),
        t('cases:detailStatusOnly', { status: statusText(t, c) }),
        t('cases:detailCreated', { time: formatTime(c.createdAt, locale) }),
        '',
        c.description,
      ];
      if (messages.length) {
        lines.push('', t('cases:threadTitle'));
        for (const m of messages.reverse()) lines.push(`• ${m.fromReporter ? t('cases:youMark') : t('cases:handlerMark')}: ${excerpt(m.text, 300)}`);
      }
      return { case: c, text: lines.join('\n') };
    },

    /** Which handler actions fit this case for this person now. */
    async handlerActions(personId: string, c: Case): Promise<CaseAction[]> {
      const actor = await actors.actor(personId);
      const resource = await resourceOf(c);
      const all: CaseAction[] = ['case.acknowledge', 'case.ask', 'case.note', 'case.resolve', 'case.duplicate', 'case.escalate', 'case.reopen'];
      return all.filter((a) => can(actor, a, resource)).filter((a) => !(a === 'case.acknowledge' && c.status !== 'new' && c.status !== 'reopened'));
    },

    async reporterActions(personId: string, c: Case): Promise<CaseAction[]> {
      const actor = await actors.actor(personId);
      const resource = await resourceOf(c);
      return (['case.addInfo', 'case.confirmFixed'] as CaseAction[]).filter((a) => can(actor, a, resource));
    },

    statusText,
    categoryText,
  };
  return service;

  function newCaseText(c: CaseWithContext, t: T): string {
    return [
      t('cases:notifyNew', { ref: c.ref, category: categoryText(t, c) }) + (c.urgent ? ' ' + t('cases:urgentMark') : ''),
      t('cases:detailPlace', { group: c.group?.name ?? '', area: c.area.name }),
      t('cases:detailReporter', { reporter: reporterLabel(c, t) }),
      locationLine(c, t),
      '',
      excerpt(c.description, 600),
    ]
      .filter((l) => l !== undefined)
      .join('\n');
  }

  function locationLine(c: Case, t: T): string | undefined {
    if (c.latitude !== null && c.longitude !== null) {
      return t('cases:detailLocationPin', { lat: c.latitude.toFixed(5), lon: c.longitude.toFixed(5) });
    }
    if (c.placeText) return t('cases:detailLocationText', { place: c.placeText });
    return undefined;
  }
}

/** "pa 7k2q", "PA-7K2Q", "7k2q" -> "PA-7K2Q". */
export function normaliseRef(typed: string): string {
  const cleaned = typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return `PA-${cleaned.length > 5 && cleaned.startsWith('PA') ? cleaned.slice(2) : cleaned}`;
}

export type CaseService = ReturnType<typeof createCaseService>;
