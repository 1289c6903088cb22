/**
 * The numbers officers report up the chain, for the cases a person handles (the case service's
 * handlerScope) in a period (month, quarter, year, in Vietnam time): cases by category and
 * status, over time, time to first acknowledgement and to resolution (median, 90th percentile),
 * overdue, alerts sent and answer rates, members per channel. Nothing here names a person.
 */
import type { Db } from '../core/services/db.js';
import { OPEN_STATUSES } from '../core/authz/policy.js';
import { CATEGORIES } from '../core/services/case.catalog.js';
import type { HandlerScope } from '../core/services/case.service.js';
import { scopeWhere } from '../core/services/case.service.js';

/** Vietnam is UTC+7 all year (no daylight saving). */
const VN_OFFSET_MS = 7 * 3600_000;

export type PeriodKind = 'month' | 'quarter' | 'year';

export interface Period {
  kind: PeriodKind;
  year: number;
  /** 1-12 for a month, 1-4 for a quarter, 1 for a year. */
  index: number;
  start: Date;
  end: Date;
}

/** The period a request asks for; the current month (Vietnam time) by default. */
export function parsePeriod(query: Record<string, string | undefined>, now: Date): Period {
  const local = new Date(now.getTime() + VN_OFFSET_MS);
  const kind: PeriodKind = query.period === 'quarter' || query.period === 'year' ? query.period : 'month';
  const yearRaw = Number.parseInt(query.year ?? '', 10);
  const year = yearRaw >= 2000 && yearRaw <= 2100 ? yearRaw : local.getUTCFullYear();
  const max = kind === 'month' ? 12 : kind === 'quarter' ? 4 : 1;
  const current = kind === 'month' ? local.getUTCMonth() + 1 : kind === 'quarter' ? Math.floor(local.getUTCMonth() / 3) + 1 : 1;
  const raw = Number.parseInt(query.index ?? '', 10);
  const index = raw >= 1 && raw <= max ? raw : current;
  const firstMonth = kind === 'month' ? index - 1 : kind === 'quarter' ? (index - 1) * 3 : 0;
  const months = kind === 'month' ? 1 : kind === 'quarter' ? 3 : 12;
  const start = new Date(Date.UTC(year, firstMonth, 1) - VN_OFFSET_MS);
  const end = new Date(Date.UTC(year, firstMonth + months, 1) - VN_OFFSET_MS);
  return { kind, year, index, start, end };
}

/** The nearest-rank percentile of sorted numbers; undefined when there are none. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (!sorted.length) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** "dd/mm/yyyy HH:mm" in Vietnam time: the way dates are written in reports. */
export function vnDateTime(date: Date | null | undefined): string {
  if (!date) return '';
  const d = new Date(date.getTime() + VN_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** The bucket label of a moment: the day ("05/12") in a month, the month ("12/2026") otherwise. */
function bucketOf(kind: PeriodKind, date: Date): string {
  const d = new Date(date.getTime() + VN_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return kind === 'month' ? `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}` : `${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

function buckets(period: Period): string[] {
  const out: string[] = [];
  if (period.kind === 'month') {
    for (let t = period.start.getTime(); t < period.end.getTime(); t += 86_400_000) out.push(bucketOf('month', new Date(t)));
  } else {
    const months = period.kind === 'quarter' ? 3 : 12;
    const first = period.kind === 'quarter' ? (period.index - 1) * 3 : 0;
    for (let m = 0; m < months; m++) out.push(bucketOf(period.kind, new Date(Date.UTC(period.year, first + m, 15))));
  }
  return out;
}

export interface StatsFilter {
  groupId?: string;
  areaId?: string;
}

export function createConsoleStats(deps: { db: Db }) {
  const { db } = deps;

  const groupScope = (scope: HandlerScope, f: StatsFilter) => ({
    AND: [
      scope.all ? {} : { OR: [{ id: { in: scope.groupIds } }, { areaId: { in: scope.areaIds } }] },
      f.groupId ? { id: f.groupId } : {},
      f.areaId ? { areaId: f.areaId } : {},
    ],
  });

  const caseWhere = (scope: HandlerScope, period: Period, f: StatsFilter) => ({
    AND: [scopeWhere(scope), { createdAt: { gte: period.start, lt: period.end } }, f.groupId ? { groupId: f.groupId } : {}, f.areaId ? { areaId: f.areaId } : {}],
  });

  return {
    async dashboard(scope: HandlerScope, period: Period, f: StatsFilter) {
      const rows = await db.case.findMany({
        where: caseWhere(scope, period, f),
        select: { category: true, status: true, urgent: true, createdAt: true, acknowledgedAt: true, resolvedAt: true, overdueAt: true },
      });
      const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<string, number>;
      const byStatus: Record<string, number> = {};
      const labels = buckets(period);
      const created = Object.fromEntries(labels.map((l) => [l, 0])) as Record<string, number>;
      const resolved = Object.fromEntries(labels.map((l) => [l, 0])) as Record<string, number>;
      const ack: number[] = [];
      const res: number[] = [];
      let overdue = 0;
      let open = 0;
      for (const r of rows) {
        byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        const b = bucketOf(period.kind, r.createdAt);
        if (b in created) created[b]!++;
        if (r.resolvedAt && r.resolvedAt < period.end) {
          const rb = bucketOf(period.kind, r.resolvedAt);
          if (rb in resolved) resolved[rb]!++;
          res.push(r.resolvedAt.getTime() - r.createdAt.getTime());
        }
        if (r.acknowledgedAt) ack.push(r.acknowledgedAt.getTime() - r.createdAt.getTime());
        if (r.overdueAt) overdue++;
        if ((OPEN_STATUSES as readonly string[]).includes(r.status)) open++;
      }
      ack.sort((a, b) => a - b);
      res.sort((a, b) => a - b);

      const groups = groupScope(scope, f);
      const [members, alertRows] = await Promise.all([
        db.channelAccount.groupBy({
          by: ['channel'],
          where: { person: { deletedAt: null, memberships: { some: { state: 'active', group: groups } } } },
          _count: { _all: true },
        }),
        db.alert.findMany({ where: { kind: 'alert', createdAt: { gte: period.start, lt: period.end }, groups: { some: { group: groups } } }, select: { id: true } }),
      ]);
      const alerts = alertRows.length;
      // Through the alertId index: the alerts of the scope and period are few, their copies many.
      const deliveries = alerts
        ? await db.delivery.groupBy({ by: ['status', 'answer'], where: { alertId: { in: alertRows.map((a) => a.id) }, kind: 'alert' }, _count: { _all: true } })
        : [];
      const sent = deliveries.filter((d) => d.status === 'sent').reduce((n, d) => n + d._count._all, 0);
      const failed = deliveries.filter((d) => d.status === 'failed').reduce((n, d) => n + d._count._all, 0);
      const answered = (answer: string) => deliveries.filter((d) => d.answer === answer).reduce((n, d) => n + d._count._all, 0);
      return {
        total: rows.length,
        open,
        resolved: rows.filter((r) => r.resolvedAt || r.status === 'closed').length,
        overdue,
        urgent: rows.filter((r) => r.urgent).length,
        byCategory,
        byStatus,
        series: { labels, created: labels.map((l) => created[l]!), resolved: labels.map((l) => resolved[l]!) },
        ackMs: { median: percentile(ack, 50), p90: percentile(ack, 90), count: ack.length },
        resolveMs: { median: percentile(res, 50), p90: percentile(res, 90), count: res.length },
        alerts: { count: alerts, sent, failed, received: answered('received'), safe: answered('safe'), needHelp: answered('need_help') },
        members: Object.fromEntries(members.map((m) => [m.channel, m._count._all])) as Record<string, number>,
      };
    },

    /** The rows of the periodic report: one per case, no reporter and no description. */
    reportRows(scope: HandlerScope, period: Period, f: StatsFilter) {
      return db.case.findMany({
        where: caseWhere(scope, period, f),
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: {
          ref: true,
          category: true,
          status: true,
          urgent: true,
          level: true,
          createdAt: true,
          acknowledgedAt: true,
          resolvedAt: true,
          overdueAt: true,
          group: { select: { name: true } },
          area: { select: { name: true } },
        },
      });
    },

    /** Areas a dashboard may pick: those of the groups in scope (at most 500). */
    async areasInScope(scope: HandlerScope) {
      const groups = await db.group.findMany({ where: groupScope(scope, {}), select: { area: { select: { id: true, name: true } } }, take: 2000 });
      const seen = new Map<string, string>();
      for (const g of groups) seen.set(g.area.id, g.area.name);
      return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'vi')).slice(0, 500);
    },
  };
}

export type ConsoleStats = ReturnType<typeof createConsoleStats>;
export type Dashboard = Awaited<ReturnType<ConsoleStats['dashboard']>>;
export type ReportRow = Awaited<ReturnType<ConsoleStats['reportRows']>>[number];
