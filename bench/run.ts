/**
 * `npm run bench`: one 10,000-recipient alert through the fake Telegram server with its global
 * limit raised to 500 messages/s, sent by the real service process (the same one `npm start` runs).
 *
 * Prints achieved rate against the limit, confirm-to-first-delivery time, lost and duplicated
 * copies, 429 answers, the service's peak memory, and how long writing 10,000 outbox rows takes.
 * Always exits 0 once measured; each goal is marked PASS or MISS.
 *
 * Knobs (environment): BENCH_RECIPIENTS (10000), BENCH_RATE (500), BENCH_NODE_ARGS (extra node
 * flags for the service process, added after the heap flags `npm start` uses, which are read from package.json).
 */
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/persistence/database.js';
import { insertDeliveries } from '../src/persistence/outbox-store.js';
import path from 'node:path';
import { inboundTable, runInboundBench, ECHO, PROJECT_PG, PROJECT_SQLITE } from './inbound.js';
import { liveCountsTable, runLiveCounts, type LiveCountsFigures } from './live-counts.js';
import { parseConfig } from '../src/config.js';
import { createApp } from '../src/app.js';
import { silentLogger } from '../src/logger.js';
import { measureConsolePages, seedConsoleLoad } from '../src/console/console-bench.js';
import {
  alertRowStatuses,
  databaseUrl,
  dropPostgresSchema,
  leasesOf,
  postgresSchemaUrl,
  seedPostgres,
  removeDir,
  seedDatabase,
  sendAlert,
  sleep,
  startFake,
  startService,
  startNodeFlags,
  tempDir,
  trackAlert,
  type ServiceProcess,
} from './fanout-harness.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);
const LIMIT = Number(process.env.BENCH_RATE ?? 500);
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** Which parts run: "inbound", "fanout", "fanout-pg", "live-counts", "console" (default all). */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'inbound,fanout,fanout-pg,live-counts,console').split(',').map((p) => p.trim()));
/** The fan-out on PostgreSQL with two instances: fewer recipients (BENCH_PG_RECIPIENTS, 3000), the server of BENCH_POSTGRES_URL. */
const PG_RECIPIENTS = Number(process.env.BENCH_PG_RECIPIENTS ?? 3_000);
const PG_SERVER =
  process.env.BENCH_POSTGRES_URL ?? (process.env.TEST_DATABASE_URL?.startsWith('postgres') ? process.env.TEST_DATABASE_URL : 'postgresql://postgres@127.0.0.1:5432/test');

const started = Date.now();
const log = (line: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

function printTable(rows: string[][]) {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  process.stdout.write('\n' + rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n\n');
}

async function main() {
  if (PARTS.has('inbound')) await inbound();
  if (PARTS.has('fanout')) await fanout();
  if (PARTS.has('fanout-pg')) await fanoutPostgres();
  if (PARTS.has('live-counts')) await liveCounts();
  if (PARTS.has('console')) await consolePages();
}

/**
 * Issue 10 item 2: 1,000 alert answers within 10 s, and the sender's live counts right within one
 * refresh of the last one; on SQLite and, when BENCH_POSTGRES_URL's server answers, on PostgreSQL.
 * BENCH_LIVE_RESIDENTS (1000), BENCH_LIVE_ANSWERS (1000), BENCH_LIVE_SECONDS (10), BENCH_LIVE_CONNECTIONS (40,
 * Telegram's max_connections for a webhook).
 */
async function liveCounts() {
  const residents = Number(process.env.BENCH_LIVE_RESIDENTS ?? 1_000);
  const base = { residents, answers: Number(process.env.BENCH_LIVE_ANSWERS ?? residents), spreadMs: Number(process.env.BENCH_LIVE_SECONDS ?? 10) * 1000, connections: Number(process.env.BENCH_LIVE_CONNECTIONS ?? 40), nodeArgs: NODE_ARGS, log };
  const results: LiveCountsFigures[] = [];
  for (const engine of ['SQLite', 'PostgreSQL'] as const) {
    const figures = await runLiveCounts({ ...base, engine, pgServer: PG_SERVER }).catch((error: Error) => {
      log(`live counts (${engine}) failed: ${error.message}`);
      return undefined;
    });
    if (figures) results.push(figures);
  }
  if (results.length) printTable(liveCountsTable(results));
}

/** The console's queue, dashboard and map with 10,000 cases and 100,000 deliveries: server time per page. */
async function consolePages() {
  const dir = tempDir('bot-bench-console-');
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl(dir), MEDIA_DIR: path.join(dir, 'media'), DEMO_DATA: 'on', LOG_LEVEL: 'error' });
  const app = await createApp(config, { logger: silentLogger });
  try {
    await app.start();
    const seeded = await seedConsoleLoad(app, { cases: 10_000, deliveries: 100_000 });
    log(`console: seeded ${seeded.cases} cases and ${seeded.deliveries} deliveries; measuring pages as an officer of the whole tree`);
    const results = await measureConsolePages(`http://127.0.0.1:${app.port}`, seeded.cookie, { rounds: 30 });
    const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    printTable([
      ['console page (server time, Server-Timing)', 'p50', 'p95', 'max', 'goal p95 < 200 ms'],
      ...results.map((r) => [r.page, `${r.p50.toFixed(1)} ms`, `${r.p95.toFixed(1)} ms`, `${r.max.toFixed(1)} ms`, mark(r.p95 < 200)]),
    ]);
  } finally {
    await app.stop();
    removeDir(dir);
  }
}

/**
 * The cost of one update: the service on SQLite and on PostgreSQL against a bare grammY echo bot on
 * the same fake (issue: answer five times faster). PostgreSQL is BENCH_PG_URL (default: the local
 * server's "test" database; "off" skips it); the run makes and drops a schema of its own there.
 */
async function inbound() {
  const openRate = Number(process.env.BENCH_OPEN_RATE ?? 200);
  const pgSetting = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const results = await runInboundBench({
    people: Math.max(1000, openRate * 5),
    closedUsers: 50,
    closedRounds: Number(process.env.BENCH_CLOSED_ROUNDS ?? 60),
    slices: Number(process.env.BENCH_CLOSED_SLICES ?? 6),
    openRate,
    openSeconds: Number(process.env.BENCH_OPEN_SECONDS ?? 10),
    pgUrl: pgSetting === 'off' ? undefined : pgSetting,
    log,
  });
  log(`inbound: project against a bare grammY echo bot, webhook mode, same fake Telegram server; open loop at ${openRate} updates/s`);
  if (results.some((r) => r.name !== ECHO)) printTable(inboundTable(results));
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const goals: string[][] = [['goal', 'measured', '']];
  const echo = results.find((r) => r.name === ECHO);
  for (const [name, p95Goal] of [[PROJECT_SQLITE, 50], [PROJECT_PG, 80]] as const) {
    const project = results.find((r) => r.name === name);
    if (!project) {
      goals.push([`${name}: not measured`, '', 'MISS']);
      continue;
    }
    goals.push(
      [`${name}: CPU per answered update <= 2.5 ms`, `${project.cpuPerUpdateMs.toFixed(2)} ms`, mark(project.cpuPerUpdateMs <= 2.5)],
      // The same goal against the echo bot of the same run, which this VM's speed moves alike: the
      // issue measured 12.5 ms against 0.52 ms (24×); five times better is at most 4.8×.
      ...(echo
        ? [[`${name}: CPU per update / echo bot's <= 4.8× (issue: 24×)`, `${(project.cpuPerUpdateMs / echo.cpuPerUpdateMs).toFixed(2)}×`, mark(project.cpuPerUpdateMs / echo.cpuPerUpdateMs <= 4.8)]]
        : []),
      [`${name}: p95 open loop at ${openRate}/s < ${p95Goal} ms`, `${project.open.p95.toFixed(1)} ms`, mark(project.open.p95 < p95Goal)],
      [`${name}: start-up to first HTTP answer < 1 s`, `${project.startupMs.toFixed(0)} ms`, mark(project.startupMs < 1000)],
      [`${name}: RSS at rest < 150 MB`, `${project.restRssMb.toFixed(0)} MB`, mark(project.restRssMb < 150)],
      [`${name}: every update answered`, String(project.openLost), mark(project.openLost === 0)],
    );
  }
  printTable(goals);
}

async function fanout() {

  const outboxInsertMs = await measureOutboxInsert(10_000);
  log(`10,000 outbox rows written in one transaction in ${outboxInsertMs.toFixed(0)} ms`);

  const seeded = await seedDatabase(RECIPIENTS);
  log(`seeded ${RECIPIENTS} recipients in ${seeded.dir}`);
  const fake = await startFake({ globalPerSecond: LIMIT });
  const service = await startService({ databaseUrl: seeded.databaseUrl, fake, env: { TELEGRAM_RATE_GLOBAL: String(LIMIT) }, nodeArgs: NODE_ARGS });
  log(`service started: node ${[...startNodeFlags(), ...NODE_ARGS, 'dist/src/main.js'].join(' ')} (pid ${service.pid}, peak RSS so far ${service.peakRssMb()?.toFixed(0)} MB)`);

  const headline = `Bench ${randomUUID().slice(0, 8)}: đối tượng khả nghi`;
  const tracker = trackAlert(fake, seeded.chatIds, headline);
  let timedOut = false;
  let peakRss: number | undefined;
  let confirm = { confirmStartedAt: 0, confirmedAt: 0 };
  let statuses: Record<string, number> = {};
  try {
    confirm = await sendAlert(service.baseUrl, seeded.leaderSession, headline);
    log(`alert confirmed (the confirm request took ${confirm.confirmedAt - confirm.confirmStartedAt} ms)`);
    let lastReport = Date.now();
    const expectedMs = (RECIPIENTS / LIMIT) * 1000;
    await tracker
      .until(
        () => {
          if (Date.now() - lastReport >= 5000) {
            lastReport = Date.now();
            log(`${tracker.reached}/${RECIPIENTS} recipients reached, ${fake.tooManyRequests} × 429`);
          }
          return tracker.reached === RECIPIENTS;
        },
        Math.max(120_000, expectedMs * 4),
        'every recipient',
        20,
      )
      .catch((error: Error) => {
        timedOut = true;
        log(error.message);
      });
    // Late duplicates would come within moments; the outbox should be empty by now.
    await sleep(1000);
    tracker.update();
    const { chatsSent: _chats, ...counts } = await alertRowStatuses(seeded.databaseUrl);
    statuses = counts;
    peakRss = service.peakRssMb();
  } finally {
    await service.stop();
    await fake.close();
    removeDir(seeded.dir);
  }

  const rate = tracker.rate();
  const ratio = rate / LIMIT;
  const firstMs = tracker.firstAt !== undefined ? tracker.firstAt - confirm.confirmStartedAt : NaN;
  const spanMs = tracker.firstAt !== undefined ? tracker.lastAt! - tracker.firstAt : NaN;
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const rows: Array<[string, string, string]> = [
    ['recipients', String(RECIPIENTS), ''],
    ['limit (fake Telegram and TELEGRAM_RATE_GLOBAL)', `${LIMIT} msg/s`, ''],
    ['copies accepted by the fake', String(tracker.total), ''],
    ['fan-out duration (first to last copy)', `${(spanMs / 1000).toFixed(2)} s`, ''],
    ['achieved rate (first to last copy)', `${rate.toFixed(1)} msg/s`, ''],
    ['achieved rate / limit', ratio.toFixed(3), `goal >= 0.95: ${mark(ratio >= 0.95)}`],
    ['confirm request round trip', `${confirm.confirmedAt - confirm.confirmStartedAt} ms`, ''],
    ['confirm to first delivery', `${firstMs} ms`, ''],
    ['lost (recipients without a copy)', String(tracker.lost), `goal 0: ${mark(tracker.lost === 0)}`],
    ['duplicated (extra copies)', String(tracker.duplicates), `goal 0: ${mark(tracker.duplicates === 0)}`],
    ['429 answers received', String(fake.tooManyRequests), ''],
    ['outbox rows by status', JSON.stringify(statuses), ''],
    ['service peak RSS (VmHWM)', peakRss !== undefined ? `${peakRss.toFixed(1)} MB` : 'n/a', `goal < 250 MB: ${mark(peakRss !== undefined && peakRss < 250)}`],
    ['10,000-row outbox insert (one transaction)', `${outboxInsertMs.toFixed(0)} ms`, `goal < 1000 ms: ${mark(outboxInsertMs < 1000)}`],
  ];
  if (timedOut) rows.push(['note', 'timed out before every recipient was reached', '']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write('\n' + rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()).join('\n') + '\n');
}

/**
 * The same alert fan-out on PostgreSQL with two service processes sharing the database (webhook
 * mode, as several instances run): the leader confirms through the instance that does not hold
 * the sender lease; the other sends. Rate against the limit, lost and duplicated copies.
 */
async function fanoutPostgres() {
  const url = postgresSchemaUrl(PG_SERVER, 'bench_fanout');
  let seeded: Awaited<ReturnType<typeof seedPostgres>>;
  try {
    seeded = await seedPostgres(PG_RECIPIENTS, url);
  } catch (error) {
    log(`fan-out on PostgreSQL skipped: cannot reach ${PG_SERVER.replace(/\/\/[^@/]*@/, '//***@')} (${error instanceof Error ? error.message : String(error)})`);
    await dropPostgresSchema(url).catch(() => undefined);
    return;
  }
  log(`PostgreSQL: seeded ${PG_RECIPIENTS} recipients in a schema of their own; starting two instances`);
  const fake = await startFake({ globalPerSecond: LIMIT });
  const services: ServiceProcess[] = [];
  const headline = `Bench PG ${randomUUID().slice(0, 8)}: đối tượng khả nghi`;
  const tracker = trackAlert(fake, seeded.chatIds, headline);
  let timedOut = false;
  let statuses: Record<string, number> = {};
  let confirm = { confirmStartedAt: 0, confirmedAt: 0 };
  let senders: string[] = [];
  try {
    for (const name of ['bench-a', 'bench-b']) {
      services.push(
        await startService({
          databaseUrl: url,
          fake,
          webhookSecret: 'bench_fanout_pg_secret',
          env: { TELEGRAM_RATE_GLOBAL: String(LIMIT), INSTANCE_NAME: name },
          nodeArgs: NODE_ARGS,
        }),
      );
    }
    // /healthz answers once the channels are up; the first instance takes the leases just after.
    let held = await Promise.all(services.map((s) => leasesOf(s)));
    for (const until = Date.now() + 10_000; !held.flat().some((l) => l.startsWith('sender:telegram')) && Date.now() < until; ) {
      await sleep(50);
      held = await Promise.all(services.map((s) => leasesOf(s)));
    }
    senders = held.map((h, i) => (h.some((l) => l.startsWith('sender:telegram')) ? `instance ${i + 1}` : '')).filter(Boolean);
    const entry = held.findIndex((h) => !h.some((l) => l.startsWith('sender:telegram')));
    confirm = await sendAlert(services[entry >= 0 ? entry : 1]!.baseUrl, seeded.leaderSession, headline);
    await tracker
      .until(() => tracker.reached === PG_RECIPIENTS, Math.max(60_000, (PG_RECIPIENTS / LIMIT) * 4000), 'every recipient (PostgreSQL)', 20)
      .catch((error: Error) => {
        timedOut = true;
        log(error.message);
      });
    await sleep(1000);
    tracker.update();
    const { chatsSent: _chats, ...counts } = await alertRowStatuses(url);
    statuses = counts;
  } finally {
    for (const s of services) await s.stop();
    await fake.close();
    await dropPostgresSchema(url).catch(() => undefined);
  }
  const rate = tracker.rate();
  const ratio = rate / LIMIT;
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const rows: Array<[string, string, string]> = [
    ['PostgreSQL, two instances: recipients', String(PG_RECIPIENTS), ''],
    ['instances holding the Telegram sender lease', senders.join(', ') || 'none', 'goal exactly one'],
    ['limit (fake Telegram and TELEGRAM_RATE_GLOBAL)', `${LIMIT} msg/s`, ''],
    ['achieved rate (first to last copy)', `${rate.toFixed(1)} msg/s`, ''],
    ['achieved rate / limit', ratio.toFixed(3), `goal >= 0.95: ${mark(ratio >= 0.95)}`],
    ['confirm to first delivery', `${tracker.firstAt !== undefined ? tracker.firstAt - confirm.confirmStartedAt : NaN} ms`, ''],
    ['lost (recipients without a copy)', String(tracker.lost), `goal 0: ${mark(tracker.lost === 0)}`],
    ['duplicated (extra copies)', String(tracker.duplicates), `goal 0: ${mark(tracker.duplicates === 0)}`],
    ['429 answers received (limit exceeded across both)', String(fake.tooManyRequests), `goal 0: ${mark(fake.tooManyRequests === 0)}`],
    ['outbox rows by status', JSON.stringify(statuses), ''],
  ];
  if (timedOut) rows.push(['note', 'timed out before every recipient was reached', '']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write('\n' + rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()).join('\n') + '\n');
}

/** Time to write `count` delivery rows in one transaction on a fresh SQLite database, as confirming an alert does. */
async function measureOutboxInsert(count: number): Promise<number> {
  const dir = tempDir('bot-bench-outbox-');
  const { db, close } = await openDatabase(databaseUrl(dir));
  try {
    const payload = JSON.stringify({
      text: '🟠 CẢNH BÁO NGHIÊM TRỌNG · An ninh\nĐối tượng khả nghi\n\n' + 'Phát hiện đối tượng khả nghi đi xe máy không biển số. '.repeat(6),
      choices: [[{ id: 'a:cmwy4547m0000mk7djzgcsg7b:r', label: '✅ Đã nhận' }], [{ id: 'a:cmwy4547m0000mk7djzgcsg7b:s', label: '🙆 Tôi an toàn' }], [{ id: 'a:cmwy4547m0000mk7djzgcsg7b:h', label: '🆘 Cần giúp đỡ' }]],
    });
    const rows = Array.from({ length: count }, (_, i) => ({ kind: 'alert', channel: 'telegram', accountId: null, chatId: String(700_000_000 + i), payload, alertId: null }));
    await db.$transaction(async (tx) => insertDeliveries(tx, rows.slice(0, 100))); // warm-up
    const t0 = performance.now();
    await db.$transaction(async (tx) => insertDeliveries(tx, rows), { timeout: 60_000 });
    return performance.now() - t0;
  } finally {
    await close();
    removeDir(dir);
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
