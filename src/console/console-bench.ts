/**
 * For `npm run bench` (the lead wires it in bench/): fills a database with many cases and alert
 * deliveries, signs an officer of the whole demo tree in, and measures the console's pages by
 * the server time each answer reports (Server-Timing: app;dur=<ms>).
 *
 *   const seeded = await seedConsoleLoad(app, { cases: 10_000, deliveries: 100_000 });
 *   const result = await measureConsolePages(baseUrl, seeded.cookie, { rounds: 50 });
 *   // result: [{ page, p50, p95, max }] in milliseconds
 */
import { randomBytes } from 'node:crypto';
import type { App } from '../app.js';
import { CATEGORIES } from '../core/services/case.catalog.js';

const STATUSES = ['new', 'acknowledged', 'waiting_reporter', 'resolved', 'closed', 'reopened', 'duplicate'];

export interface ConsoleLoad {
  /** The officer's console cookie value (signed in through a real one-time link). */
  cookie: string;
  officerPersonId: string;
  cases: number;
  deliveries: number;
}

/** Inserts `cases` cases over the last 90 days in every demo group and `deliveries` alert copies, in batches. */
export async function seedConsoleLoad(app: App, options: { cases?: number; deliveries?: number; now?: Date } = {}): Promise<ConsoleLoad> {
  const db = app.db;
  const cases = options.cases ?? 10_000;
  const deliveries = options.deliveries ?? 100_000;
  const now = (options.now ?? new Date()).getTime();
  const groups = await db.group.findMany({ select: { id: true, areaId: true } });
  if (!groups.length) throw new Error('seedConsoleLoad needs an area tree (DEMO_DATA=on)');
  const reporter = await db.person.create({ data: { accounts: { create: { channel: 'zalo', externalId: `bench-${randomBytes(6).toString('hex')}`, chatId: 'bench' } } } });

  for (let start = 0; start < cases; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(cases, start + 500); i++) {
      const g = groups[i % groups.length]!;
      const createdAt = new Date(now - ((i * 7919) % (90 * 24 * 60)) * 60_000);
      const status = STATUSES[i % STATUSES.length]!;
      const acked = status !== 'new' && status !== 'reopened';
      batch.push({
        ref: `PB-${i.toString(36).toUpperCase().padStart(5, '0')}`,
        alias: 'B' + (i % 1000).toString().padStart(3, '0'),
        reporterId: reporter.id,
        anonymous: i % 2 === 0,
        groupId: g.id,
        areaId: g.areaId,
        category: CATEGORIES[i % CATEGORIES.length]!,
        urgent: i % 13 === 0,
        status,
        description: `Bench case ${i}: đèn đường, rác, tiếng ồn`,
        latitude: i % 4 === 0 ? 21 + (i % 100) / 1000 : null,
        longitude: i % 4 === 0 ? 105.8 + (i % 97) / 1000 : null,
        escalateAt: acked ? null : new Date(createdAt.getTime() + 24 * 3600_000),
        acknowledgedAt: acked ? new Date(createdAt.getTime() + ((i % 50) + 1) * 60_000) : null,
        resolvedAt: status === 'resolved' || status === 'closed' ? new Date(createdAt.getTime() + ((i % 72) + 1) * 3600_000) : null,
        overdueAt: i % 97 === 0 ? new Date(createdAt.getTime() + 48 * 3600_000) : null,
        createdAt,
      });
    }
    await db.case.createMany({ data: batch });
  }

  const alert = await db.alert.create({
    data: { category: 'security', severity: 'moderate', headline: 'Bench', text: 'Bench alert', expiresAt: new Date(now + 3600_000), status: 'sent', createdAt: new Date(now - 3600_000), groups: { create: groups.map((g) => ({ groupId: g.id })) } },
  });
  const answers = [null, 'received', 'safe', 'need_help'];
  for (let start = 0; start < deliveries; start += 2000) {
    const batch = [];
    for (let i = start; i < Math.min(deliveries, start + 2000); i++) {
      batch.push({ kind: 'alert', channel: i % 3 === 0 ? 'zalo' : 'telegram', chatId: `c${i}`, payload: '{}', alertId: alert.id, status: i % 50 === 0 ? 'failed' : 'sent', answer: answers[i % 4] ?? null, createdAt: new Date(now - 3600_000) });
    }
    await db.delivery.createMany({ data: batch });
  }

  // An officer of every top-level area: the widest queue there is.
  const officer = await db.person.create({ data: { accounts: { create: { channel: 'telegram', externalId: String(9_000_000_000 + Math.floor(Math.random() * 1e6)), chatId: 'bench-officer' } } } });
  const tops = await db.area.findMany({ where: { parentId: null }, select: { id: true } });
  await db.roleGrant.createMany({ data: tops.map((a) => ({ personId: officer.id, role: 'officer', areaId: a.id })) });
  const link = await app.consoleWeb.issueLink(officer.id);
  const token = new URL(link).searchParams.get('t')!;
  const opened = await app.consoleWeb.auth.consumeLoginToken(token, 'bench');
  if (!opened) throw new Error('could not sign the bench officer in');
  return { cookie: opened.cookie, officerPersonId: officer.id, cases, deliveries };
}

export const CONSOLE_BENCH_PAGES = [
  '/console/cases',
  '/console/cases?page=40',
  '/console/cases?sort=deadline&status=all',
  '/console/cases?q=' + encodeURIComponent('đèn đường'),
  '/console/dashboard',
  '/console/dashboard?period=quarter',
  '/console/map',
];

/** Requests each page `rounds` times; percentiles of the server time (Server-Timing) in ms. */
export async function measureConsolePages(baseUrl: string, cookie: string, options: { rounds?: number; pages?: string[] } = {}) {
  const rounds = options.rounds ?? 30;
  const results: { page: string; p50: number; p95: number; max: number }[] = [];
  for (const page of options.pages ?? CONSOLE_BENCH_PAGES) {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const res = await fetch(baseUrl + page, { headers: { cookie: `console_session=${cookie}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${page} answered ${res.status}`);
      const dur = /app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1];
      times.push(Number(dur));
    }
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
    results.push({ page, p50: at(50), p95: at(95), max: times[times.length - 1]! });
  }
  return results;
}
