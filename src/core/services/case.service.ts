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
import { REPORTS, URGENT_REPORTS } from '../abuse/limits.js';
import type { Db } from './db.js';
import type { Outbox, Recipient, Tx } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import { CATEGORY_KEYS, POLICE_CATEGORIES, REPORTER_STATUS_KEYS, STATUS_KEYS, type Category } from './case.catalog.js';
import { policeUnitOf } from './alert.catalog.js';
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
  /** levelFactors[i] multiplies the timer at level i (0: group, 1: first police unit, ...); the last repeats. */
  escalation: { urgentMs: number; normalMs: number; levelFactors?: number[] };
}

/** An area whose police handle cases, and its place on the way up (1: the nearest police unit). */
export interface PoliceLevel {
  areaId: string;
  areaCode: string;
  areaName: string;
  /** "Công an phường Mũi Né", from the imported tree. */
  unit: string;
  /** 1 for the nearest police unit above the group, 2 for the next one up... */
  step: number;
}

type T = (key: string, params?: Record<string, unknown>) => string;
type CaseWithContext = Case & { reporter: Person | null; group: { name: string } | null; area: { name: string } };

export function createCaseService(deps: CaseServiceDeps) {
  const { db, outbox, actors, clock } = deps;
  const now = () => clock.now();
  /** The timer of a level (step 0: group leaders, 1: the nearest police unit, ...). */
  const timerFor = (c: { category: string; urgent: boolean }, step = 0) => {
    const factors = deps.escalation.levelFactors?.length ? deps.escalation.levelFactors : [1];
    const factor = factors[Math.min(step, factors.length - 1)]!;
    const base = POLICE_CATEGORIES.has(c.category) || c.urgent ? deps.escalation.urgentMs : deps.escalation.normalMs;
    return new Date(now().getTime() + Math.round(base * factor));
  };

  /**
   * The police units a case from this area climbs through, nearest first: every area of the
   * chain that names a police unit. A tree imported without units falls back to every area of
   * the chain (named "công an <area>"), so older imports still climb.
   */
  async function policeLevels(client: Tx | Db, areaId: string, t?: T): Promise<PoliceLevel[]> {
    const chain = await actors.areaChain(areaId);
    const rows = await client.area.findMany({ where: { id: { in: chain } }, select: { id: true, code: true, name: true, policeUnit: true } });
    const ordered = chain.map((id) => rows.find((r) => r.id === id)).filter((r): r is NonNullable<typeof r> => Boolean(r));
    const withUnit = ordered.filter((r) => r.policeUnit);
    const used = withUnit.length ? withUnit : ordered;
    return used.map((r, i) => ({
      areaId: r.id,
      areaCode: r.code,
      areaName: r.name,
      // Without a unit in the data, the unit's usual name (as the migration names old trees' units).
      unit: policeUnitOf(r),
      step: i + 1,
    }));
  }

  /** Where the case is now (undefined: with the group's leaders) and where it would go next. */
  async function placeOf(client: Tx | Db, c: Pick<Case, 'areaId' | 'level' | 'handlingAreaId'>, t?: T): Promise<{ current?: PoliceLevel; next?: PoliceLevel; levels: PoliceLevel[] }> {
    const levels = await policeLevels(client, c.areaId, t);
    if (c.level !== 'area') return { levels, next: levels[0] };
    const at = levels.findIndex((l) => l.areaId === c.handlingAreaId);
    if (at < 0) {
      // The unit was removed from the tree: the case stays with whoever is above its old place.
      return { levels, next: levels[0] };
    }
    return { levels, current: levels[at], next: levels[at + 1] };
  }

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
      level: c.level === 'area' ? 'area' : 'group',
      canClimb: Boolean((await placeOf(db, c)).next),
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
      // Only someone who may see the case reads its reference in a refusal (L4); anyone else gets "not found" wording.
      throw new DomainError(sameRole ? 'cases:notNow' : 'cases:forbidden', sameRole || can(actor, 'case.view', resource) ? { ref: c.ref } : {});
    }
    return c;
  }

  /**
   * Who handles a case at its level: group leaders/deputies (plus the nearest police unit for
   * police matters), or the officers of the police unit it climbed to.
   */
  async function levelHandlers(tx: Tx, c: Pick<Case, 'groupId' | 'areaId' | 'level' | 'handlingAreaId' | 'category' | 'urgent'>): Promise<string[]> {
    return (await levelHandlersByKind(tx, c)).all;
  }

  async function levelHandlersByKind(tx: Tx, c: Pick<Case, 'groupId' | 'areaId' | 'level' | 'handlingAreaId' | 'category' | 'urgent'>) {
    const officersOf = async (areaId: string | null | undefined) =>
      areaId ? (await tx.roleGrant.findMany({ where: { role: 'officer', areaId, revokedAt: null }, select: { personId: true } })).map((g) => g.personId) : [];
    let leaders: string[] = [];
    let police: string[] = [];
    let unit: PoliceLevel | undefined;
    if (c.level === 'area') {
      unit = (await placeOf(tx, c)).current;
      police = await officersOf(unit?.areaId ?? c.handlingAreaId);
    } else {
      if (c.groupId) {
        const rows = await tx.membership.findMany({ where: { groupId: c.groupId, state: 'active', role: { in: ['leader', 'deputy'] } }, select: { personId: true } });
        leaders = rows.map((l) => l.personId);
      }
      if (POLICE_CATEGORIES.has(c.category) || c.urgent) {
        unit = (await policeLevels(tx, c.areaId))[0];
        police = await officersOf(unit?.areaId);
      }
    }
    return { leaders, police, unit, all: [...new Set([...leaders, ...police])] };
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

  /**
   * The photo itself travels as `out.photo` (uploaded to Telegram, a 15-minute signed link on
   * Zalo and in the web chat, minted when delivered): never a lasting link in the text.
   */
  function photoNote(c: Case, r: Recipient, t: T): string | undefined {
    if (!c.photoMediaId) return undefined;
    return r.account.channel === 'zalo' && !deps.publicUrl ? t('common:photoNoLink') : undefined;
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
  /** The status in the reporter's own view ("waiting for your answer", not "waiting for the reporter"). */
  const reporterStatusText = (t: T, c: Case) => t(REPORTER_STATUS_KEYS[c.status] ?? 'cases:mine_new');
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

  /**
   * Abuse limits on new reports (src/core/abuse/limits.ts), counted in the database so every
   * instance agrees. Over the "danger now" limit the refusal repeats the emergency numbers and
   * names the urgent reports already received; the draft stays where it was.
   */
  async function checkReportLimits(reporterId: string, urgent: boolean): Promise<void> {
    const since = (windowMs: number) => new Date(now().getTime() - windowMs);
    if (urgent) {
      const recent = await db.case.findMany({
        where: { reporterId, urgent: true, helpKey: null, createdAt: { gte: since(URGENT_REPORTS.windowMs) } },
        select: { ref: true },
        orderBy: { createdAt: 'asc' },
      });
      if (recent.length >= URGENT_REPORTS.max) {
        throw new DomainError('report:urgentLimit', { count: recent.length, refs: recent.map((c) => c.ref).join(', '), minutes: URGENT_REPORTS.windowMs / 60_000 });
      }
    }
    const count = await db.case.count({ where: { reporterId, helpKey: null, createdAt: { gte: since(REPORTS.windowMs) } } });
    if (count >= REPORTS.max) throw new DomainError('report:reportLimit', { count, minutes: REPORTS.windowMs / 60_000 });
  }

  const service = {
    /** The case a report draft was filed as (its idempotency key), if this reporter filed it. */
    async filedFromDraft(reporterId: string, draftKey: string): Promise<Case | null> {
      const c = draftKey ? await db.case.findUnique({ where: { draftKey } }) : null;
      return c && c.reporterId === reporterId ? c : null;
    },

    /** Files a report: the case, its first event, and notifications to its handlers, in one transaction. */
    /**
     * `options.helpKey`: the case answers "Need help" on an alert (alert.service answer()); the
     * key is unique, so a second create with it fails (Prisma P2002) instead of opening a second
     * case. Those answers are bounded by the alerts received, so the report limits do not apply.
     */
    async create(
      reporterId: string,
      draft: CaseDraft,
      options: { helpKey?: string; draftKey?: string } = {},
    ): Promise<{ case: Case; handlers: 'leaders' | 'leadersAndPolice'; handlerCount: number; told: { leaders: number; police: number; unit?: string }; already?: boolean }> {
      const police = POLICE_CATEGORIES.has(draft.category) || draft.urgent;
      // `options.draftKey`: the report draft's idempotency key. A second confirm of the same draft
      // (a double tap, the update handled again after a crash, the same press at two instances)
      // finds the case the first one filed, by the unique key, and files nothing.
      const filedBefore = async () => {
        const c = options.draftKey ? await db.case.findUnique({ where: { draftKey: options.draftKey } }) : null;
        return c && c.reporterId === reporterId
          ? { case: c, handlers: police ? ('leadersAndPolice' as const) : ('leaders' as const), handlerCount: 0, told: { leaders: 0, police: 0 }, already: true }
          : undefined;
      };
      const before = await filedBefore();
      if (before) return before;
      const group = await db.group.findUnique({ where: { id: draft.groupId } });
      if (!group) throw new DomainError('report:noGroup');
      const actor = await actors.actor(reporterId);
      if (!actor.memberships.some((m) => m.groupId === group.id)) throw new DomainError('report:noGroup');
      if (!options.helpKey) await checkReportLimits(reporterId, draft.urgent);
      let handlerCount = 0;
      let told: { leaders: number; police: number; unit?: string } = { leaders: 0, police: 0 };
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
            helpKey: options.helpKey ?? null,
            draftKey: options.draftKey ?? null,
            escalateAt: timerFor(draft),
            createdAt: now(),
          },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, reporterId, 'created', { anonymous: draft.anonymous });
        const who = await levelHandlersByKind(tx, c);
        const handlers = who.all;
        handlerCount = handlers.length;
        told = { leaders: who.leaders.length, police: who.police.length, unit: who.unit?.unit };
        merge(queued, await tellHandlers(tx, c, handlers, (t) => newCaseText(c, t), true));
        return c;
      }).catch(async (error: unknown) => {
        // The same draft confirmed at the same moment elsewhere: its case won the unique key.
        if ((error as { code?: string }).code === 'P2002' && options.draftKey) {
          const other = await filedBefore();
          if (other) return other;
        }
        throw error;
      });
      if ('already' in created) return created;
      return { case: created, handlers: police ? 'leadersAndPolice' : 'leaders', handlerCount, told };
    },

    async acknowledge(actorId: string, caseId: string): Promise<Case> {
      const c = await authorize(actorId, 'case.acknowledge', caseId);
      return change(async (tx, queued) => {
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { status: 'acknowledged', acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null, assigneeId: c.assigneeId ?? actorId },
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
          data: { status: 'waiting_reporter', acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null, assigneeId: c.assigneeId ?? actorId },
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
          data: { status: 'resolved', resolvedAt: now(), acknowledgedAt: c.acknowledgedAt ?? now(), firstAnsweredAt: c.firstAnsweredAt ?? now(), escalateAt: null, assigneeId: c.assigneeId ?? actorId },
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

    /** One level up the real tree (by a handler, or by the timer when `actorId` is null). */
    async escalate(actorId: string | null, caseId: string, reason: 'handler' | 'timeout' = 'handler'): Promise<Case> {
      const c = actorId ? await authorize(actorId, 'case.escalate', caseId) : await load(caseId);
      const { next } = await placeOf(db, c);
      if (!next) throw new DomainError('cases:notNow', { ref: c.ref });
      return change(async (tx, queued) => {
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { level: 'area', handlingAreaId: next.areaId, escalateAt: c.status === 'new' || c.status === 'reopened' ? timerFor(c, next.step) : null },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, actorId, 'escalated', { to: next.areaCode, unit: next.unit, reason });
        const handlers = (await levelHandlers(tx, updated)).filter((id) => id !== actorId);
        merge(
          queued,
          await tellHandlers(tx, updated, handlers, (t) =>
            [t(reason === 'timeout' ? 'cases:escalatedTimeout' : 'cases:escalatedByHandler', { ref: c.ref, level: next.unit }), newCaseText(updated, t)].join('\n\n'),
            true,
          ),
        );
        merge(queued, await tellReporter(tx, updated, (t) => t('cases:toReporterEscalated', { ref: c.ref, unit: next.unit })));
        return updated;
      });
    },

    /**
     * The top level's time ran out and still nobody acknowledged: the case is flagged overdue and
     * the handlers of that level are told (it does not stop silently). Returns whether it was flagged.
     */
    async flagOverdue(caseId: string): Promise<boolean> {
      const c = await load(caseId);
      if (c.overdueAt || !(c.status === 'new' || c.status === 'reopened')) {
        await db.case.update({ where: { id: c.id }, data: { escalateAt: null } });
        return false;
      }
      await change(async (tx, queued) => {
        const updated = await tx.case.update({
          where: { id: c.id },
          data: { overdueAt: now(), escalateAt: null },
          include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } },
        });
        await event(tx, c.id, null, 'overdue', { level: c.level, area: c.handlingAreaId });
        const handlers = await levelHandlers(tx, updated);
        const unit = c.level === 'area' ? (await placeOf(tx, c)).current?.unit : undefined;
        merge(
          queued,
          await tellHandlers(tx, updated, handlers, (t) =>
            [t('cases:overdueTop', { ref: c.ref, level: unit ?? t('cases:level_group') }), newCaseText(updated, t)].join('\n\n'),
          ),
        );
      });
      return true;
    },

    /** Where the case is now, in words: "tổ dân phố" or the police unit's name. */
    async levelText(c: Pick<Case, 'areaId' | 'level' | 'handlingAreaId'>, t: T): Promise<string> {
      if (c.level !== 'area') return t('cases:level_group');
      return (await placeOf(db, c, t)).current?.unit ?? t('cases:level_police');
    },

    /**
     * Who the handlers of a case are right now, for telling its reporter truthfully who was told:
     * the group's leaders and deputies, the officers of the police unit, and that unit's name.
     */
    async whoHandles(personId: string, caseId: string): Promise<{ case: Case; groupName: string; leaders: number; police: number; unit?: string }> {
      const c = await load(caseId);
      if (c.reporterId !== personId) throw new DomainError('cases:forbidden', { ref: c.ref });
      const who = await db.$transaction((tx) => levelHandlersByKind(tx, c));
      return { case: c, groupName: c.group?.name ?? '', leaders: who.leaders.length, police: who.police.length, unit: who.unit?.unit };
    },

    /** The police units a case from this group's area climbs through, nearest first. */
    policeLevels: (areaId: string, t?: T) => policeLevels(db, areaId, t),

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
        select: { id: true, areaId: true, level: true, handlingAreaId: true },
        take: 200,
      });
      let moved = 0;
      for (const c of due) {
        if (!(await placeOf(db, c)).next) {
          // The top of the real tree: flag it and tell that level's officers.
          if (await service.flagOverdue(c.id)) moved++;
          continue;
        }
        await service.escalate(null, c.id, 'timeout');
        moved++;
      }
      return moved;
    },

    /** Open cases this person may handle: most urgent first, then newest. */
    async queue(personId: string): Promise<Case[]> {
      const scope = await service.handlerScope(personId);
      if (!scope) return [];
      return db.case.findMany({
        where: { status: { in: [...OPEN_STATUSES] }, ...scopeWhere(scope) },
        orderBy: [{ urgent: 'desc' }, { createdAt: 'desc' }],
        take: 100,
      });
    },

    /**
     * Which cases a person may handle, as data: everything (admin), the groups they lead or
     * deputise, the areas (and below) they are an officer for. Undefined: none. /cases and the
     * web console both list through it (with scopeWhere), so they always show the same cases.
     */
    async handlerScope(personId: string): Promise<HandlerScope | undefined> {
      const actor = await actors.actor(personId);
      const groupIds = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      if (!actor.admin && !groupIds.length && !areaIds.length) return undefined;
      return { all: actor.admin, groupIds, areaIds };
    },

    /** The handler's label of the reporter ("ẩn danh #A7K2" when anonymous), as in chat. */
    reporterLabel: (c: CaseWithContext, t: T) => reporterLabel(c, t),

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
        t('cases:detailStatus', { status: statusText(t, c), level: await service.levelText(c, t) }) + (c.overdueAt ? ' ' + t('cases:overdueMark') : ''),
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
      if (c.reporterId !== personId) throw new DomainError('cases:forbidden');
      const messages = await db.caseMessage.findMany({ where: { caseId: c.id, internal: false }, orderBy: { createdAt: 'desc' }, take: 8 });
      const lines = [
        t('cases:detailHeader', { ref: c.ref, category: categoryText(t, c) }),
        t('cases:detailStatusOnly', { status: reporterStatusText(t, c) }),
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
    reporterStatusText,
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

/** The cases a person may handle (see handlerScope). */
export interface HandlerScope {
  all: boolean;
  groupIds: string[];
  areaIds: string[];
}

/** A HandlerScope as a Prisma filter on Case. */
export function scopeWhere(scope: HandlerScope) {
  return scope.all ? {} : { OR: [{ groupId: { in: scope.groupIds } }, { areaId: { in: scope.areaIds } }] };
}

/** "pa 7k2q", "PA-7K2Q", "7k2q" -> "PA-7K2Q". */
export function normaliseRef(typed: string): string {
  const cleaned = typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return `PA-${cleaned.length > 5 && cleaned.startsWith('PA') ? cleaned.slice(2) : cleaned}`;
}

export type CaseService = ReturnType<typeof createCaseService>;
