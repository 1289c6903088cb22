/**
 * The inbound part of `npm run bench`: what one answered update costs the service, against a bare
 * grammY echo bot (bench/echo-bot.mjs), both in webhook mode behind the same fake Telegram server.
 *
 * Each update is posted to the bot's webhook as Telegram would (with the secret header); it counts
 * as answered when the bot's reply reaches the fake. Measured per bot, in one run:
 * - closed loop: USERS people each send an update and wait for its answer, again and again;
 *   CPU per answered update is the bot process's own CPU time (/proc/<pid>/stat) over the updates.
 *   The bots run side by side and take turns, a slice of rounds each, so a change in the virtual
 *   machine's speed during the run (10-15 % seen here) weighs on all of them alike;
 * - open loop: updates at a fixed rate, spread over many people so no chat gets more than one a second;
 * - start-up to the first HTTP answer (from spawning the process; npm start's build check, which
 *   runs before it, is timed on its own), and RSS at rest after start-up.
 * The service runs exactly as `npm start` runs it, on a seeded SQLite database and, in the same
 * run, on a seeded PostgreSQL schema (`pgUrl`: a schema of its own is created and dropped); the
 * echo bot replies with a two-button keyboard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { FakeTelegram, RecordedCall } from '../test/fakes/fake-telegram-server.js';
import { dropPostgresSchema, freePort, postgresSchemaUrl, PROJECT_ROOT, removeDir, seedAreas, seedDatabase, serviceEntry, sleep, startFake, startService, type ServiceProcess } from './fanout-harness.js';
import { openDatabase } from '../src/persistence/database.js';

const SECRET = 'bench_webhook_secret_123';

export interface InboundOptions {
  /** People seeded (and spread over in the open loop). */
  people: number;
  /** Concurrent people in the closed loop, and updates each of them sends (in `slices` turns per bot). */
  closedUsers: number;
  closedRounds: number;
  slices: number;
  /** Open loop: updates per second and for how long. */
  openRate: number;
  openSeconds: number;
  /** A PostgreSQL server (postgresql://...) to run the project on too; undefined: SQLite only. */
  pgUrl?: string;
  log(line: string): void;
}

interface Target {
  name: string;
  pid: number;
  port: number;
  startupMs: number;
  buildCheckMs?: number;
  stop(): Promise<void>;
}

export interface InboundFigures {
  name: string;
  cpuPerUpdateMs: number;
  closedThroughput: number;
  closed: Percentiles;
  open: Percentiles;
  openLost: number;
  startupMs: number;
  restRssMb: number;
  /** The project: npm start's build check (prestart) before the process starts, nothing to build. */
  buildCheckMs?: number;
}

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

const CLOCK_TICK_MS = 10; // Linux USER_HZ is 100 on every kernel Node supports

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

function rssMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), count: sorted.length };
}

/** Resolves the first sendMessage/sendPhoto to each chat after `expect(chat)` was called. */
function replyWatcher(fake: FakeTelegram) {
  const waiting = new Map<string, (at: number) => void>();
  const calls = fake.calls as RecordedCall[];
  const push = calls.push.bind(calls);
  calls.push = (...items: RecordedCall[]) => {
    for (const call of items) {
      if (call.method !== 'sendMessage' && call.method !== 'sendPhoto') continue;
      const chat = String(call.body.chat_id);
      const resolve = waiting.get(chat);
      if (resolve) {
        waiting.delete(chat);
        resolve(performance.now());
      }
    }
    // The fake keeps every call for tests; a benchmark only needs the count.
    const n = push(...items);
    if (calls.length > 1000) calls.splice(0, calls.length - 100);
    return n;
  };
  return {
    expect(chat: string, timeoutMs = 30_000): Promise<number | undefined> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(chat);
          resolve(undefined);
        }, timeoutMs);
        waiting.set(chat, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
  };
}

let updateId = 1_000_000;

/** "/menu" from a person in their private chat, as Telegram posts it to a webhook. */
function menuUpdate(chatId: string) {
  const id = Number(chatId);
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id, type: 'private', first_name: 'Cư dân' },
      from: { id, is_bot: false, first_name: 'Cư dân', language_code: 'vi' },
      text: '/menu',
      entities: [{ type: 'bot_command', offset: 0, length: 5 }],
    },
  };
}

/**
 * Posts with node:http on keep-alive connections, not fetch: the load generator shares the two
 * cores with the bot it measures, and fetch (undici's streams, an AbortSignal per request) cost the
 * bench's own process several times what a plain request does, taken from every bot alike.
 */
const webhookAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function postUpdate(port: number, update: unknown): Promise<void> {
  const body = JSON.stringify(update);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/telegram',
        method: 'POST',
        agent: webhookAgent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-telegram-bot-api-secret-token': SECRET },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolve() : reject(new Error(`webhook answered ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One update and the time until its answer reached the fake (undefined when none came). */
async function roundTrip(target: Target, watcher: ReturnType<typeof replyWatcher>, chat: string): Promise<number | undefined> {
  const answered = watcher.expect(chat);
  const sentAt = performance.now();
  await postUpdate(target.port, menuUpdate(chat));
  const at = await answered;
  return at === undefined ? undefined : at - sentAt;
}

/** USERS people each send an update and wait for its answer, `rounds` times (CPU and time: closedSlice). */
async function closedLoop(target: Target, watcher: ReturnType<typeof replyWatcher>, chats: string[], rounds: number) {
  const latencies: number[] = [];
  let lost = 0;
  await Promise.all(
    chats.map(async (chat) => {
      for (let i = 0; i < rounds; i++) {
        const ms = await roundTrip(target, watcher, chat);
        if (ms === undefined) lost++;
        else latencies.push(ms);
      }
    }),
  );
  return { latencies, lost };
}

async function openLoop(target: Target, watcher: ReturnType<typeof replyWatcher>, chats: string[], rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let lost = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const chat = chats[i % chats.length]!;
    inFlight.push(
      roundTrip(target, watcher, chat).then(
        (ms) => void (ms === undefined ? lost++ : latencies.push(ms)),
        () => void lost++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, lost };
}

async function startEcho(fake: FakeTelegram): Promise<Target> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bench', 'echo-bot.mjs')], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', TOKEN: fake.token, API_ROOT: fake.apiRoot, PORT: String(port), SECRET },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      // not yet listening
    }
    if (performance.now() - started > 30_000) throw new Error('the echo bot did not start');
    await sleep(5);
  }
  const startupMs = performance.now() - started;
  return {
    name: ECHO,
    pid: child.pid!,
    port,
    startupMs,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export const PROJECT_SQLITE = 'project (SQLite)';
export const PROJECT_PG = 'project (PostgreSQL)';
export const ECHO = 'grammY echo bot';

async function startProject(fake: FakeTelegram, databaseUrl: string, name: string): Promise<Target> {
  // npm start's prestart: is dist/ older than src/? (Here never: the run starts with a build.)
  const checkStarted = performance.now();
  serviceEntry();
  const buildCheckMs = performance.now() - checkStarted;
  const started = performance.now();
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") reach the service process here too.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  // The fake enforces no Telegram limit and the echo bot paces nothing: the service's own pacing
  // (30 messages/s in all, 1 a second per chat by default) is lifted too, or the figures would be
  // the limiter's (a closed loop capped at 30 answers/s), not the cost of handling an update.
  const env = { LOG_LEVEL: 'error', MESSAGE_LIMIT: 'off', TELEGRAM_RATE_GLOBAL: '5000', TELEGRAM_RATE_PER_CHAT: '1000' };
  const service: ServiceProcess = await startService({ databaseUrl, fake, nodeArgs, webhookSecret: SECRET, env, built: true });
  const startupMs = performance.now() - started;
  return { name, pid: service.pid, port: Number(new URL(service.baseUrl).port), startupMs, buildCheckMs, stop: () => service.stop() };
}

/**
 * The same people as seedDatabase (fanout-harness.ts) in a fresh PostgreSQL schema: the demo area
 * tree, and per chat id an onboarded person with a Telegram account and a membership.
 */
async function seedPostgres(serverUrl: string, chatIds: string[]): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const databaseUrl = postgresSchemaUrl(serverUrl, 'bench_inbound');
  const groupId = await seedAreas(databaseUrl);
  const { db, close } = await openDatabase(databaseUrl);
  try {
    const now = new Date();
    await db.person.createMany({ data: chatIds.map((chat) => ({ id: `in-person-${chat}`, locale: 'vi', displayName: `Cư dân ${chat}`, onboardedAt: now })) });
    await db.channelAccount.createMany({
      data: chatIds.map((chat) => ({ id: `in-account-${chat}`, personId: `in-person-${chat}`, channel: 'telegram', externalId: chat, chatId: chat, displayName: `Cư dân ${chat}` })),
    });
    await db.membership.createMany({ data: chatIds.map((chat) => ({ id: `in-member-${chat}`, groupId, personId: `in-person-${chat}`, state: 'active' })) });
  } finally {
    await close();
  }
  return { databaseUrl, drop: () => dropPostgresSchema(databaseUrl) };
}

interface Running {
  target: Target;
  fake: FakeTelegram;
  watcher: ReturnType<typeof replyWatcher>;
  restRssMb: number;
  closed: { latencies: number[]; lost: number; cpuMs: number; elapsedMs: number };
}

/** One slice of the closed loop on one bot, added to what it measured before. */
async function closedSlice(bot: Running, chats: string[], rounds: number): Promise<void> {
  const cpuBefore = cpuMs(bot.target.pid);
  const started = performance.now();
  const slice = await closedLoop(bot.target, bot.watcher, chats, rounds);
  bot.closed.elapsedMs += performance.now() - started;
  bot.closed.cpuMs += cpuMs(bot.target.pid) - cpuBefore;
  bot.closed.latencies.push(...slice.latencies);
  bot.closed.lost += slice.lost;
}

/**
 * Runs the comparison; returns the figures of the echo bot, of the project on SQLite and (with
 * `pgUrl`) of the project on PostgreSQL, each against a fresh fake of its own. The bots are
 * started one after another (start-up and RSS at rest are each one's own), then take turns.
 */
export async function runInboundBench(options: InboundOptions): Promise<InboundFigures[]> {
  const seeded = await seedDatabase(options.people);
  const chats = seeded.chatIds;
  const running: Running[] = [];
  const fakes: FakeTelegram[] = [];
  let postgres: Awaited<ReturnType<typeof seedPostgres>> | undefined;
  try {
    if (options.pgUrl) {
      try {
        postgres = await seedPostgres(options.pgUrl, chats);
      } catch (error) {
        options.log(`PostgreSQL at ${new URL(options.pgUrl).host} could not be used (${(error as Error).message}): SQLite only`);
      }
    }
    const targets: Array<(fake: FakeTelegram) => Promise<Target>> = [
      (fake) => startEcho(fake),
      (fake) => startProject(fake, seeded.databaseUrl, PROJECT_SQLITE),
    ];
    if (postgres) targets.push((fake) => startProject(fake, postgres!.databaseUrl, PROJECT_PG));
    for (const start of targets) {
      const fake = await startFake();
      fakes.push(fake);
      let target: Target;
      try {
        target = await start(fake);
      } catch (error) {
        // One engine that cannot start (a machine too busy for the 30 s health check) leaves the others' figures.
        options.log(`a target did not start: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      await sleep(1500);
      const bot: Running = { target, fake, watcher: replyWatcher(fake), restRssMb: rssMb(target.pid), closed: { latencies: [], lost: 0, cpuMs: 0, elapsedMs: 0 } };
      running.push(bot);
      const check = target.buildCheckMs === undefined ? '' : ` (npm start's build check before it: ${target.buildCheckMs.toFixed(0)} ms)`;
      options.log(`${target.name}: started in ${target.startupMs.toFixed(0)} ms${check}, RSS at rest ${bot.restRssMb.toFixed(0)} MB`);
    }
    const users = chats.slice(0, options.closedUsers);
    for (const bot of running) await closedLoop(bot.target, bot.watcher, users, 4); // warm-up
    const slices = Math.max(1, options.slices);
    for (let i = 0; i < slices; i++) {
      const rounds = Math.floor(options.closedRounds / slices) + (i < options.closedRounds % slices ? 1 : 0);
      for (const bot of running) await closedSlice(bot, users, rounds);
    }
    // The open loops last bot first, each soon after its own closed loop: on PostgreSQL, a burst
    // after 20 s idle had a slow first second in two runs of three (p95 0.5-0.6 s, then 20-60 ms).
    const results: InboundFigures[] = [];
    for (const bot of [...running].reverse()) {
      const { closed } = bot;
      const cpuPerUpdateMs = closed.cpuMs / Math.max(1, closed.latencies.length);
      options.log(`${bot.target.name}: closed loop ${((closed.latencies.length * 1000) / closed.elapsedMs).toFixed(0)} updates/s, ${cpuPerUpdateMs.toFixed(2)} ms CPU per update`);
      await sleep(1000);
      const open = await openLoop(bot.target, bot.watcher, chats, options.openRate, options.openSeconds);
      const openP = percentiles(open.latencies);
      options.log(`${bot.target.name}: open loop at ${options.openRate}/s: p50 ${openP.p50.toFixed(1)} ms, p95 ${openP.p95.toFixed(1)} ms, p99 ${openP.p99.toFixed(1)} ms (${open.lost} unanswered)`);
      results.push({
        name: bot.target.name,
        cpuPerUpdateMs,
        closedThroughput: (closed.latencies.length * 1000) / closed.elapsedMs,
        closed: percentiles(closed.latencies),
        open: percentiles(open.latencies),
        openLost: open.lost + closed.lost,
        startupMs: bot.target.startupMs,
        restRssMb: bot.restRssMb,
        buildCheckMs: bot.target.buildCheckMs,
      });
    }
    return results.reverse();
  } finally {
    for (const bot of running) await bot.target.stop().catch(() => undefined);
    for (const fake of fakes) await fake.close().catch(() => undefined);
    removeDir(seeded.dir);
    await postgres?.drop().catch(() => undefined);
  }
}

export function inboundTable(results: InboundFigures[]): Array<[string, ...string[]]> {
  const echo = results.find((r) => r.name === ECHO)!;
  const projects = results.filter((r) => r !== echo);
  const rows: Array<[string, ...string[]]> = [['', ...results.map((r) => r.name), ...projects.map((p) => `${p.name} / echo`)]];
  const line = (label: string, pick: (r: InboundFigures) => number, digits: number, unit: string) =>
    rows.push([label, ...results.map((r) => `${pick(r).toFixed(digits)} ${unit}`), ...projects.map((p) => `${(pick(p) / pick(echo)).toFixed(2)}×`)]);
  line('CPU per answered update (closed loop)', (r) => r.cpuPerUpdateMs, 2, 'ms');
  line('throughput, closed loop', (r) => r.closedThroughput, 0, '/s');
  line('p50 latency, closed loop', (r) => r.closed.p50, 1, 'ms');
  line('p95 latency, closed loop', (r) => r.closed.p95, 1, 'ms');
  line('p99 latency, closed loop', (r) => r.closed.p99, 1, 'ms');
  line('p50 latency, open loop', (r) => r.open.p50, 1, 'ms');
  line('p95 latency, open loop', (r) => r.open.p95, 1, 'ms');
  line('p99 latency, open loop', (r) => r.open.p99, 1, 'ms');
  line('start-up to first HTTP answer', (r) => r.startupMs, 0, 'ms');
  rows.push(["npm start's build check, before start-up", ...results.map((r) => (r.buildCheckMs === undefined ? '' : `${r.buildCheckMs.toFixed(0)} ms`)), ...projects.map(() => '')]);
  line('RSS at rest', (r) => r.restRssMb, 0, 'MB');
  rows.push(['updates not answered', ...results.map((r) => String(r.openLost)), ...projects.map(() => '')]);
  return rows;
}
