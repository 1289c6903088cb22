/**
 * The monthly account to residents ("dân kiểm tra, dân giám sát"): in the first days of each
 * month (Vietnam time) every member who has not turned it off receives, for each of their groups
 * and its commune/ward, last month's plain numbers: reports received, resolved, still open, the
 * median time to resolution, alerts sent, mediations concluded, consultations held and their results.
 *
 * Only people who were members before the month ended receive it.
 *
 * Nothing in it identifies anyone: a case count of 1 or 2 is shown as "fewer than 3" (in a small
 * group "1 report" can point to the one neighbour who reported), the median needs at least 3
 * resolved cases, and a poll's result needs at least 3 answers. A row per person and month
 * (MonthlyAccount, unique) is written in the transaction that queues the message, so a restart
 * or a second instance never sends it twice.
 */
import type { Clock } from '../ports/clock.js';
import { OPEN_STATUSES } from '../authz/policy.js';
import type { Db } from './db.js';
import type { Outbox } from './outbox.service.js';
import type { PollResults, PollService } from './poll.service.js';
import type { MediationService } from './mediation.service.js';
import type { Poll } from '../../generated/prisma/client.js';

/** Figures below this are shown as "fewer than …". */
export const MIN_SHOWN = 3;
/** The account goes out on the 1st; a service that was down then catches up until this day. */
export const LAST_SEND_DAY = 3;
const VN_OFFSET_MS = 7 * 3_600_000;
const BATCH = 200;

type T = (key: string, params?: Record<string, unknown>) => string;

export interface ScopeFigures {
  received: number;
  resolved: number;
  open: number;
  /** Median time from report to resolution of the cases resolved in the month (ms), if there were enough. */
  medianMs?: number;
  alerts: number;
  /** Mediation requests concluded (agreed, not agreed or referred). */
  mediations: number;
  polls: Array<{ poll: Poll; results: PollResults }>;
}

/** The month before the one `now` is in, Vietnam time: its key ("2026-11"), label ("11/2026") and [from, to). */
export function previousMonth(now: Date): { key: string; label: string; from: Date; to: Date; dayOfMonth: number } {
  const vn = new Date(now.getTime() + VN_OFFSET_MS);
  const y = vn.getUTCFullYear();
  const m = vn.getUTCMonth(); // 0-based: the current month
  const from = new Date(Date.UTC(y, m - 1, 1) - VN_OFFSET_MS);
  const to = new Date(Date.UTC(y, m, 1) - VN_OFFSET_MS);
  const start = new Date(from.getTime() + VN_OFFSET_MS);
  const mm = String(start.getUTCMonth() + 1).padStart(2, '0');
  return { key: `${start.getUTCFullYear()}-${mm}`, label: `${mm}/${start.getUTCFullYear()}`, from, to, dayOfMonth: vn.getUTCDate() };
}

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function createMonthlyAccountService(deps: { db: Db; outbox: Outbox; polls: PollService; mediation: MediationService; clock: Clock }) {
  const { db, outbox, polls, mediation, clock } = deps;

  async function descendants(areaId: string): Promise<string[]> {
    const all = new Set([areaId]);
    let frontier = [areaId];
    while (frontier.length) {
      const children = await db.area.findMany({ where: { parentId: { in: frontier } }, select: { id: true } });
      frontier = children.map((c) => c.id).filter((id) => !all.has(id));
      frontier.forEach((id) => all.add(id));
    }
    return [...all];
  }

  /** Last month's figures for some groups (one group, or every group of a commune/ward). */
  async function figures(scope: { groupIds: string[]; areaIds?: string[] }, from: Date, to: Date): Promise<ScopeFigures> {
    const where = scope.areaIds ? { areaId: { in: scope.areaIds } } : { groupId: { in: scope.groupIds } };
    const [received, resolvedRows, open, alerts, closed, mediations] = await Promise.all([
      db.case.count({ where: { ...where, createdAt: { gte: from, lt: to } } }),
      db.case.findMany({ where: { ...where, resolvedAt: { gte: from, lt: to } }, select: { createdAt: true, resolvedAt: true } }),
      db.case.count({ where: { ...where, createdAt: { lt: to }, status: { in: [...OPEN_STATUSES] } } }),
      db.alert.count({ where: { kind: 'alert', exercise: false, createdAt: { gte: from, lt: to }, groups: { some: { groupId: { in: scope.groupIds } } } } }),
      polls.closedBetween(scope.groupIds, from, to),
      mediation.concludedBetween(scope.groupIds, from, to),
    ]);
    const durations = resolvedRows.map((r) => r.resolvedAt!.getTime() - r.createdAt.getTime());
    return {
      received,
      resolved: resolvedRows.length,
      open,
      medianMs: durations.length >= MIN_SHOWN ? median(durations) : undefined,
      alerts,
      mediations,
      polls: closed,
    };
  }

  /** A count as residents read it: small case counts are not shown exactly. */
  function figure(n: number, t: T): string {
    return n > 0 && n < MIN_SHOWN ? t('account:fewerThan', { n: MIN_SHOWN }) : String(n);
  }

  function duration(ms: number, t: T): string {
    const hours = ms / 3_600_000;
    if (hours < 1) return t('account:underAnHour');
    if (hours < 48) return t('account:hours', { n: Math.round(hours) });
    return t('account:days', { n: Math.round(hours / 24) });
  }

  function pollLine(p: { poll: Poll; results: PollResults }, t: T): string {
    const question = p.poll.question.length > 60 ? `${p.poll.question.slice(0, 59)}…` : p.poll.question;
    if (p.results.answers < MIN_SHOWN) return t('account:pollTooFew', { question, n: MIN_SHOWN });
    if (p.poll.kind === 'free') return t('account:pollFree', { question, count: p.results.answers });
    const options = polls.optionsOf(p.poll);
    let top = 0;
    p.results.counts.forEach((c, i) => {
      if (c > (p.results.counts[top] ?? 0)) top = i;
    });
    return t('account:pollTop', { question, option: options[top] ?? '', count: p.results.counts[top] ?? 0, total: p.results.answers });
  }

  function section(title: string, f: ScopeFigures, t: T): string[] {
    const lines = [
      title,
      t('account:received', { n: figure(f.received, t) }),
      t('account:resolved', { n: figure(f.resolved, t) }),
      t('account:open', { n: figure(f.open, t) }),
      f.medianMs !== undefined ? t('account:median', { time: duration(f.medianMs, t) }) : t('account:medianTooFew', { n: MIN_SHOWN }),
      t('account:alerts', { n: f.alerts }),
      t('account:mediations', { n: figure(f.mediations, t) }),
      t('account:polls', { n: f.polls.length }),
    ];
    for (const p of f.polls.slice(0, 3)) lines.push(pollLine(p, t));
    return lines;
  }

  const service = {
    figures,

    /** The account text for one person's groups, in their language. */
    render(
      month: string,
      parts: Array<{ groupName: string; group: ScopeFigures; areaName: string; area: ScopeFigures }>,
      t: T,
    ): string {
      const lines = [t('account:title', { month })];
      const areasShown = new Set<string>();
      for (const p of parts) {
        lines.push('', ...section(t('account:groupTitle', { name: p.groupName }), p.group, t));
        if (!areasShown.has(p.areaName)) {
          areasShown.add(p.areaName);
          lines.push('', ...section(t('account:areaTitle', { name: p.areaName }), p.area, t));
        }
      }
      lines.push('', t('account:footer'));
      return lines.join('\n');
    },

    /**
     * Sends last month's account to everyone due (from the 1st to the 3rd of the month, Vietnam
     * time), in batches, each batch marked sent in the transaction that queues its messages.
     * Returns how many people it was sent to.
     */
    async sendDue(): Promise<number> {
      const month = previousMonth(clock.now());
      if (month.dayOfMonth > LAST_SEND_DAY) return 0;
      // Members who were members before the month reported ended: someone who joined today
      // gets the next month's account, the first one about a month they lived through as a member.
      const rows = await db.membership.findMany({
        where: {
          state: 'active',
          createdAt: { lt: month.to },
          person: { deletedAt: null, onboardedAt: { not: null }, monthlyAccountOff: false, monthlyAccounts: { none: { month: month.key } } },
        },
        select: { personId: true, groupId: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      if (!rows.length) return 0;
      const groupsOf = new Map<string, string[]>();
      for (const r of rows) groupsOf.set(r.personId, [...(groupsOf.get(r.personId) ?? []), r.groupId]);

      // Figures per group and per commune/ward, computed once for everyone.
      const groupIds = [...new Set(rows.map((r) => r.groupId))];
      const groups = await db.group.findMany({ where: { id: { in: groupIds } }, include: { area: { select: { id: true, name: true } } } });
      const groupFigures = new Map<string, ScopeFigures>();
      const areaFigures = new Map<string, ScopeFigures>();
      for (const g of groups) {
        groupFigures.set(g.id, await figures({ groupIds: [g.id] }, month.from, month.to));
        if (!areaFigures.has(g.areaId)) {
          const areaIds = await descendants(g.areaId);
          const inArea = await db.group.findMany({ where: { areaId: { in: areaIds } }, select: { id: true } });
          areaFigures.set(g.areaId, await figures({ groupIds: inArea.map((x) => x.id), areaIds }, month.from, month.to));
        }
      }
      const byId = new Map(groups.map((g) => [g.id, g]));
      const partsFor = (personId: string) =>
        (groupsOf.get(personId) ?? []).flatMap((id) => {
          const g = byId.get(id);
          return g ? [{ groupName: g.name, group: groupFigures.get(g.id)!, areaName: g.area.name, area: areaFigures.get(g.areaId)! }] : [];
        });

      const people = [...groupsOf.keys()];
      let sent = 0;
      for (let start = 0; start < people.length; start += BATCH) {
        const batch = people.slice(start, start + BATCH);
        try {
          const channels = await db.$transaction(
            async (tx) => {
              await tx.monthlyAccount.createMany({ data: batch.map((personId) => ({ personId, month: month.key, createdAt: clock.now() })) });
              const to = await outbox.recipients(tx, batch);
              return outbox.enqueue(tx, 'monthly_account', to, (t, r) => ({ text: service.render(month.label, partsFor(r.personId), t) }));
            },
            { timeout: 60_000 },
          );
          outbox.notify(channels);
          sent += batch.length;
        } catch (error) {
          // Another instance sent this batch meanwhile (the unique row): leave it to that one.
          if ((error as { code?: string }).code !== 'P2002') throw error;
        }
      }
      return sent;
    },

    /** Turns the monthly account off (or back on) for a person (/settings). */
    async setOff(personId: string, off: boolean): Promise<void> {
      await db.person.update({ where: { id: personId }, data: { monthlyAccountOff: off } });
    },

    async isOff(personId: string): Promise<boolean> {
      return (await db.person.findUnique({ where: { id: personId }, select: { monthlyAccountOff: true } }))?.monthlyAccountOff ?? false;
    },
  };
  return service;
}

export type MonthlyAccountService = ReturnType<typeof createMonthlyAccountService>;
