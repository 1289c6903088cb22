/**
 * What the console reads that the chat does not: the case queue with filters, search, sorting
 * and paging, and a case's whole thread. The scope (which cases a person may handle) is the
 * case service's handlerScope, the one /cases lists through; every action goes through the
 * case service itself.
 */
import type { Db } from '../core/services/db.js';
import type { Clock } from '../core/ports/clock.js';
import { OPEN_STATUSES } from '../core/authz/policy.js';
import { CATEGORIES, STATUS_KEYS } from '../core/services/case.catalog.js';
import { normaliseRef, scopeWhere, type HandlerScope } from '../core/services/case.service.js';

export const PAGE_SIZE = 50;
export const SORTS = ['default', 'oldest', 'newest', 'deadline'] as const;
export type Sort = (typeof SORTS)[number];
/** "open" is what /cases lists; "all" adds closed ones; or one status. */
export const STATUS_FILTERS = ['open', 'all', ...Object.keys(STATUS_KEYS)] as const;

export interface QueueFilter {
  status: string;
  category?: string;
  urgent: boolean;
  overdue: boolean;
  /** Only cases the signed-in person took on (acknowledged, asked or resolved first). */
  mine: boolean;
  /** Cases escalated to police ('area') or still with the group's leaders ('group'). */
  level?: 'group' | 'area';
  groupId?: string;
  q?: string;
  sort: Sort;
  page: number;
}

/** Reads a filter from query parameters; unknown values fall back to the defaults. */
export function parseFilter(query: Record<string, string | undefined>): QueueFilter {
  const status = (STATUS_FILTERS as readonly string[]).includes(query.status ?? '') ? query.status! : 'open';
  const category = (CATEGORIES as readonly string[]).includes(query.category ?? '') ? query.category : undefined;
  const sort = (SORTS as readonly string[]).includes(query.sort ?? '') ? (query.sort as Sort) : 'default';
  const page = Math.min(10_000, Math.max(0, Number.parseInt(query.page ?? '0', 10) || 0));
  const level = query.level === 'group' || query.level === 'area' ? query.level : undefined;
  const groupId = query.group && /^[A-Za-z0-9_-]{1,40}$/.test(query.group) ? query.group : undefined;
  const q = query.q?.trim().slice(0, 100) || undefined;
  return { status, category, urgent: query.urgent === '1', overdue: query.overdue === '1', mine: query.mine === '1', level, groupId, q, sort, page };
}

export function createConsoleQueries(deps: { db: Db; clock: Clock }) {
  const { db } = deps;

  function where(scope: HandlerScope, f: QueueFilter, me: string) {
    const and: object[] = [scopeWhere(scope)];
    if (f.status === 'open') and.push({ status: { in: [...OPEN_STATUSES] } });
    else if (f.status !== 'all') and.push({ status: f.status });
    if (f.category) and.push({ category: f.category });
    if (f.urgent) and.push({ urgent: true });
    if (f.overdue) and.push({ overdueAt: { not: null } });
    if (f.mine) and.push({ assigneeId: me });
    if (f.level) and.push({ level: f.level });
    if (f.groupId) and.push({ groupId: f.groupId });
    if (f.q) {
      const ref = normaliseRef(f.q);
      and.push({ OR: [{ ref }, { ref: { contains: f.q.toUpperCase() } }, { description: { contains: f.q } }] });
    }
    return { AND: and };
  }

  function orderBy(sort: Sort) {
    switch (sort) {
      case 'oldest':
        return [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
      case 'newest':
        return [{ createdAt: 'desc' as const }, { id: 'desc' as const }];
      case 'deadline':
        return [{ escalateAt: { sort: 'asc' as const, nulls: 'last' as const } }, { createdAt: 'asc' as const }];
      default:
        // As /cases: most urgent first, then newest.
        return [{ urgent: 'desc' as const }, { createdAt: 'desc' as const }, { id: 'desc' as const }];
    }
  }

  return {
    /** One page of the queue and the total count (offset paging: 50 a page). */
    async queue(scope: HandlerScope, f: QueueFilter, me: string) {
      const filter = where(scope, f, me);
      const [rows, total] = await Promise.all([
        db.case.findMany({
          where: filter,
          orderBy: orderBy(f.sort),
          skip: f.page * PAGE_SIZE,
          take: PAGE_SIZE,
          select: {
            id: true,
            ref: true,
            category: true,
            status: true,
            urgent: true,
            level: true,
            handlingAreaId: true,
            areaId: true,
            overdueAt: true,
            escalateAt: true,
            createdAt: true,
            description: true,
            group: { select: { name: true } },
          },
        }),
        db.case.count({ where: filter }),
      ]);
      return { rows, total, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
    },

    /** The groups a filter may pick: those in the person's scope (at most 500, by name). */
    groupsInScope(scope: HandlerScope) {
      return db.group.findMany({
        where: scope.all ? {} : { OR: [{ id: { in: scope.groupIds } }, { areaId: { in: scope.areaIds } }] },
        select: { id: true, name: true, area: { select: { name: true } } },
        orderBy: { name: 'asc' },
        take: 500,
      });
    },

    /** The case with what the handler's presenter needs (reporter, group, area). */
    caseWithContext(caseId: string) {
      return db.case.findUnique({ where: { id: caseId }, include: { reporter: true, group: { select: { name: true } }, area: { select: { name: true } } } });
    },

    /** The whole thread, oldest first (internal notes included: only handlers see this page). */
    thread(caseId: string) {
      return db.caseMessage.findMany({ where: { caseId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true, fromReporter: true, internal: true, text: true, photoMediaId: true, createdAt: true } });
    },

    events(caseId: string) {
      return db.caseEvent.findMany({ where: { caseId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: { id: true, type: true, actorId: true, createdAt: true } });
    },

    /** Cases in scope with a pin (open ones unless `all`), newest first, at most 500. */
    async pins(scope: HandlerScope, all: boolean) {
      const rows = await db.case.findMany({
        where: { AND: [scopeWhere(scope), all ? {} : { status: { in: [...OPEN_STATUSES] } }, { latitude: { not: null } }, { longitude: { not: null } }] },
        orderBy: { createdAt: 'desc' },
        take: 500,
        select: { id: true, ref: true, category: true, status: true, latitude: true, longitude: true },
      });
      return rows.map((r) => ({ id: r.id, ref: r.ref, category: r.category, status: r.status, lat: r.latitude!, lon: r.longitude! }));
    },

    personLocale(personId: string) {
      return db.person.findUnique({ where: { id: personId }, select: { locale: true, displayName: true } });
    },
  };
}

export type ConsoleQueries = ReturnType<typeof createConsoleQueries>;
