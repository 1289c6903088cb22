/**
 * Shared by the crash-recovery test and `npm run bench`: a real service process (`node --import tsx
 * src/main.ts`) on a seeded SQLite database, its Telegram channel pointed at the fake Bot API
 * server running in this process, and an alert sent by a group leader through the web chat API.
 *
 * The service runs as a child process so it can be killed with SIGKILL and its memory measured
 * on its own (VmHWM of the child, which is the node process running the app: no tsx wrapper).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openDatabase, sqlitePath } from '../src/persistence/database.js';
import { hashToken, newPublicId, SESSION_IDLE_MS } from '../src/persistence/web-session.repository.js';
import { importAreas } from '../src/persistence/area-import.js';
import { startFakeTelegram, type FakeTelegram, type RateLimitOptions } from '../test/fakes/fake-telegram-server.js';

export { dropPostgresSchema, postgresSchemaUrl } from './postgres-schema.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BOT_TOKEN = '123456789:AAE-fake_telegram_token_for_fanout';
export const GROUP_CODE = 'HN-GV-01';
/** Recipients' Telegram chat ids are FIRST_CHAT_ID + i. */
export const FIRST_CHAT_ID = 700_000_000;
/** The leader's Telegram account (long unused in the seed: the web chat is the one they used last). */
export const LEADER_TELEGRAM_ID = '5999999999';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function tempDir(prefix = 'bot-fanout-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function databaseUrl(dir: string): string {
  return `file:${path.join(dir, 'bot.db')}`;
}

export interface SeededDatabase {
  dir: string;
  databaseUrl: string;
  /** The leader's web chat session: the value of their `chat_session` cookie (see sendAlert). */
  leaderSession: string;
  /** Every recipient's Telegram chat id, as the fake records it (a string). */
  chatIds: string[];
}

/**
 * Migrates the database (SQLite file or PostgreSQL schema, made if missing) and imports the demo
 * area tree; returns the id of GROUP_CODE, the group every seed puts its people in.
 */
export async function seedAreas(url: string): Promise<string> {
  const { db, close } = await openDatabase(url);
  try {
    await importAreas(db, JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'prisma', 'seed', 'demo-areas.json'), 'utf8')));
    return (await db.group.findUniqueOrThrow({ where: { code: GROUP_CODE } })).id;
  } finally {
    await close();
  }
}

/**
 * A migrated database with the demo areas, `recipients` residents of GROUP_CODE who each have one
 * Telegram account, and one leader of that group who uses the web chat.
 */
export async function seedDatabase(recipients: number, dir = tempDir()): Promise<SeededDatabase> {
  const url = databaseUrl(dir);
  const groupId = await seedAreas(url);
  // Thousands of people: straight SQL (Prisma's createMany costs about half a millisecond a row).
  // DateTime columns are written the way Prisma's SQLite adapter writes them.
  const now = prismaTimestamp(new Date());
  const conn = new Database(sqlitePath(url));
  const chatIds: string[] = [];
  // The leader's browser holds a server-issued session (only its hash is stored); the leader also
  // has a Telegram account (long unused), since roles act only for a person with a messenger.
  const leaderSession = randomBytes(32).toString('base64url');
  const leaderWebId = newPublicId();
  try {
    const person = conn.prepare('INSERT INTO "Person" ("id", "locale", "displayName", "onboardedAt", "createdAt") VALUES (?, ?, ?, ?, ?)');
    const account = conn.prepare(
      'INSERT INTO "ChannelAccount" ("id", "personId", "channel", "externalId", "chatId", "displayName", "createdAt", "lastSeenAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const membership = conn.prepare(
      'INSERT INTO "Membership" ("id", "groupId", "personId", "role", "state", "shareContact", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, \'active\', 0, ?, ?)',
    );
    conn.transaction(() => {
      for (let i = 0; i < recipients; i++) {
        const chatId = String(FIRST_CHAT_ID + i);
        chatIds.push(chatId);
        person.run(`fo-person-${i}`, 'vi', `Cư dân ${i}`, now, now);
        account.run(`fo-account-${i}`, `fo-person-${i}`, 'telegram', chatId, chatId, `Cư dân ${i}`, now, now);
        membership.run(`fo-member-${i}`, groupId, `fo-person-${i}`, 'member', now, now);
      }
      person.run('fo-leader', 'vi', 'Tổ trưởng', now, now);
      account.run('fo-leader-web', 'fo-leader', 'web', leaderWebId, leaderWebId, 'Tổ trưởng', now, now);
      const longAgo = prismaTimestamp(new Date(0));
      account.run('fo-leader-telegram', 'fo-leader', 'telegram', LEADER_TELEGRAM_ID, LEADER_TELEGRAM_ID, 'Tổ trưởng', longAgo, longAgo);
      conn
        .prepare('INSERT INTO "WebSession" ("id", "tokenHash", "accountId", "legacy", "createdAt", "lastSeenAt", "expiresAt") VALUES (?, ?, ?, 0, ?, ?, ?)')
        .run('fo-leader-session', hashToken(leaderSession), 'fo-leader-web', now, now, prismaTimestamp(new Date(Date.now() + SESSION_IDLE_MS)));
      membership.run('fo-leader-member', groupId, 'fo-leader', 'leader', now, now);
    })();
  } finally {
    conn.close();
  }
  return { dir, databaseUrl: url, leaderSession, chatIds };
}

/**
 * The same seed on PostgreSQL (`databaseUrl` is postgresql://...?schema=<name>; the schema is
 * created and migrated): set-based INSERTs, a few statements for any number of recipients.
 */
export async function seedPostgres(recipients: number, databaseUrl: string): Promise<Omit<SeededDatabase, 'dir'>> {
  const groupId = await seedAreas(databaseUrl);
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  // Prisma's PostgreSQL columns are TIMESTAMP(3) holding UTC.
  const utc = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const now = utc(new Date());
  const leaderSession = randomBytes(32).toString('base64url');
  const leaderWebId = newPublicId();
  try {
    await client.query(`SET search_path TO "${schema.replace(/"/g, '""')}"`);
    await client.query('BEGIN');
    const n = [recipients, now] as const;
    await client.query(
      `INSERT INTO "Person" ("id", "locale", "displayName", "onboardedAt", "createdAt")
       SELECT 'fo-person-' || i, 'vi', 'Cư dân ' || i, $2::timestamp, $2::timestamp FROM generate_series(0, $1::int - 1) AS i`,
      [...n],
    );
    await client.query(
      `INSERT INTO "ChannelAccount" ("id", "personId", "channel", "externalId", "chatId", "displayName", "createdAt", "lastSeenAt")
       SELECT 'fo-account-' || i, 'fo-person-' || i, 'telegram', (${FIRST_CHAT_ID} + i)::text, (${FIRST_CHAT_ID} + i)::text, 'Cư dân ' || i, $2::timestamp, $2::timestamp
       FROM generate_series(0, $1::int - 1) AS i`,
      [...n],
    );
    await client.query(
      `INSERT INTO "Membership" ("id", "groupId", "personId", "role", "state", "shareContact", "createdAt", "updatedAt")
       SELECT 'fo-member-' || i, $3, 'fo-person-' || i, 'member', 'active', false, $2::timestamp, $2::timestamp FROM generate_series(0, $1::int - 1) AS i`,
      [...n, groupId],
    );
    await client.query(`INSERT INTO "Person" ("id", "locale", "displayName", "onboardedAt", "createdAt") VALUES ('fo-leader', 'vi', 'Tổ trưởng', $1, $1)`, [now]);
    const account = `INSERT INTO "ChannelAccount" ("id", "personId", "channel", "externalId", "chatId", "displayName", "createdAt", "lastSeenAt") VALUES ($1, 'fo-leader', $2, $3, $3, 'Tổ trưởng', $4, $4)`;
    await client.query(account, ['fo-leader-web', 'web', leaderWebId, now]);
    await client.query(account, ['fo-leader-telegram', 'telegram', LEADER_TELEGRAM_ID, utc(new Date(0))]);
    await client.query(
      `INSERT INTO "WebSession" ("id", "tokenHash", "accountId", "legacy", "createdAt", "lastSeenAt", "expiresAt") VALUES ('fo-leader-session', $1, 'fo-leader-web', false, $2, $2, $3)`,
      [hashToken(leaderSession), now, utc(new Date(Date.now() + SESSION_IDLE_MS))],
    );
    await client.query(
      `INSERT INTO "Membership" ("id", "groupId", "personId", "role", "state", "shareContact", "createdAt", "updatedAt") VALUES ('fo-leader-member', $1, 'fo-leader', 'leader', 'active', false, $2, $2)`,
      [groupId, now],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  const chatIds = Array.from({ length: recipients }, (_, i) => String(FIRST_CHAT_ID + i));
  return { databaseUrl, leaderSession, chatIds };
}

/** Which leases a running service holds (its /healthz). */
export async function leasesOf(service: ServiceProcess): Promise<string[]> {
  const res = await fetch(`${service.baseUrl}/healthz`);
  return ((await res.json()) as { leases?: string[] }).leases ?? [];
}

/** "2026-11-26T22:20:18.484+00:00", as @prisma/adapter-better-sqlite3 stores DateTime values. */
export function prismaTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

export function startFake(rateLimit?: RateLimitOptions): Promise<FakeTelegram> {
  return startFakeTelegram({ token: BOT_TOKEN, rateLimit });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every variable src/config.ts reads. */
const CONFIG_VARIABLES = [
  'TELEGRAM_BOT_TOKEN', 'TELEGRAM_API_ROOT', 'TELEGRAM_WEBHOOK_SECRET', 'ZALO_BOT_TOKEN', 'ZALO_API_ROOT', 'ZALO_WEBHOOK_SECRET',
  'ZALO_SEND_RATE', 'TELEGRAM_RATE_GLOBAL', 'TELEGRAM_RATE_PER_CHAT', 'TELEGRAM_RATE_PER_GROUP', 'ESCALATION_URGENT_MINUTES',
  'ESCALATION_NORMAL_MINUTES', 'PUBLIC_URL', 'DATABASE_URL', 'PORT', 'HOST', 'DEFAULT_LOCALE', 'ADMIN_IDS', 'DEMO_DATA',
  'BACKGROUND_JOBS', 'LOG_LEVEL', 'TRUST_PROXY', 'WEB_CHAT', 'MEDIA_DIR', 'PHOTO_FETCH_HOSTS', 'ESCALATION_LEVEL_FACTORS',
  'MESSAGE_LIMIT', 'CONSOLE_TILE_URL', 'INSTANCE_NAME',
];

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Peak resident set size of the service process so far, in MB (VmHWM); undefined once it is gone. */
  peakRssMb(): number | undefined;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGKILL: no clean-up at all, as in a power cut or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * What node runs: the compiled service, as `npm start` runs it (built first when a source changed),
 * or a TypeScript entry of a test's own through tsx.
 */
export function serviceEntry(entry?: string): string[] {
  if (entry) return ['--import', 'tsx', entry];
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'build.mjs'), '--if-stale'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  return ['dist/src/main.js'];
}

/** The node flags of `npm start` (package.json), so the measured process is the one that ships. */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((part) => /^--max-[a-z-]+=\d+$/.test(part));
}

/** Starts the compiled service (`npm start`'s command) on the database, Telegram pointed at the fake; waits for /healthz. */
export async function startService(options: {
  databaseUrl: string;
  fake: FakeTelegram;
  env?: Record<string, string>;
  nodeArgs?: string[];
  entry?: string;
  /** Webhook mode: PUBLIC_URL is this loopback port (the fake accepts it) and updates are posted with this secret. */
  webhookSecret?: string;
  /** The caller ran npm start's build check (serviceEntry) already: start dist/ as it is. */
  built?: boolean;
}): Promise<ServiceProcess> {
  const port = await freePort();
  const webhook: Record<string, string> = options.webhookSecret ? { PUBLIC_URL: `https://127.0.0.1:${port}`, TELEGRAM_WEBHOOK_SECRET: options.webhookSecret } : {};
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? PROJECT_ROOT,
    // Set (blank = default) so a developer's .env, which main.ts reads, cannot change the run.
    ...Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, ''])),
    BACKGROUND_JOBS: 'on',
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    TELEGRAM_BOT_TOKEN: options.fake.token,
    TELEGRAM_API_ROOT: options.fake.apiRoot,
    DEMO_DATA: 'off',
    LOG_LEVEL: 'warn',
    ...webhook,
    ...options.env,
  };
  if (process.env.TELEGRAM_API_REFERENCE) env.TELEGRAM_API_REFERENCE = process.env.TELEGRAM_API_REFERENCE;
  const child = spawn(process.execPath, [...startNodeFlags(), ...(options.nodeArgs ?? []), ...(options.built ? ['dist/src/main.js'] : serviceEntry(options.entry))], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!child.pid) throw new Error('could not start the service process');
  const pid = child.pid;
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const service: ServiceProcess = {
    child,
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    exited,
    peakRssMb() {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    output: () => tail,
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`the service exited during start-up:\n${tail}`);
    try {
      const res = await fetch(`${service.baseUrl}/healthz`);
      const health = (await res.json()) as { channels?: Record<string, string> };
      if (res.ok && health.channels?.telegram === (options.webhookSecret ? 'webhook' : 'polling')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await service.kill();
      throw new Error(`the service did not become healthy within 30 s:\n${tail}`);
    }
    await sleep(options.webhookSecret ? 5 : 100);
  }
  return service;
}

/** Composes and confirms an alert through the web chat API, as the leader would on the page. */
export async function sendAlert(baseUrl: string, session: string, headline: string): Promise<{ confirmStartedAt: number; confirmedAt: number }> {
  const cookie = `chat_session=${session}`;
  let after = 0;
  const post = async (body: Record<string, unknown>) => {
    const res = await fetch(`${baseUrl}/api/web/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ id: randomBytes(8).toString('hex'), ...body }),
    });
    if (!res.ok) throw new Error(`web chat answered ${res.status} to ${JSON.stringify(body)}`);
  };
  /** The choice ids offered by the replies since the last call. */
  const offered = async (): Promise<string[]> => {
    const res = await fetch(`${baseUrl}/api/web/messages?after=${after}`, { headers: { cookie } });
    const { messages } = (await res.json()) as { messages: Array<{ seq: number; choices?: Array<Array<{ id: string }>> }> };
    for (const m of messages) after = Math.max(after, m.seq);
    return messages.flatMap((m) => m.choices?.flat().map((c) => c.id) ?? []);
  };
  // One sendable group: the flow starts at the category step.
  await post({ text: '/alert' });
  await post({ choice: 'alert:cat:security' });
  await post({ choice: 'alert:sev:severe' });
  await post({ text: headline });
  await post({ text: 'Phát hiện đối tượng khả nghi đi xe máy không biển số quanh khu tập thể, đã trình báo công an phường.' });
  await post({ choice: 'alert:skip' });
  await post({ choice: 'alert:exp:6h' });
  await offered();
  await post({ choice: 'alert:real' });
  // The Send button carries the draft's key (a second press sends nothing twice).
  const send = (await offered()).find((id) => id.startsWith('alert:send'));
  if (!send) throw new Error('the alert preview offered no Send button');
  const confirmStartedAt = Date.now();
  await post({ choice: send });
  const confirmedAt = Date.now();
  return { confirmStartedAt, confirmedAt };
}

/**
 * Counts, per recipient chat, the alert copies the fake accepted (sendMessage whose text holds
 * `headline`). Reads the fake's call log incrementally.
 */
export function trackAlert(fake: FakeTelegram, chatIds: string[], headline: string) {
  const copies = new Map<string, number>(chatIds.map((c) => [c, 0]));
  const times: number[] = [];
  let read = 0;
  let reached = 0;
  const tracker = {
    /** Reads calls recorded since the last update. */
    update() {
      const calls = fake.calls;
      for (; read < calls.length; read++) {
        const call = calls[read]!;
        if (call.method !== 'sendMessage') continue;
        const chat = String(call.body.chat_id);
        const n = copies.get(chat);
        if (n === undefined || typeof call.body.text !== 'string' || !call.body.text.includes(headline)) continue;
        copies.set(chat, n + 1);
        if (n === 0) reached++;
        times.push(call.at);
      }
      return tracker;
    },
    /** Copies accepted so far, duplicates included. */
    get total() {
      return times.length;
    },
    /** Recipients with at least one copy. */
    get reached() {
      return reached;
    },
    get lost() {
      return chatIds.length - reached;
    },
    get duplicates() {
      let d = 0;
      for (const n of copies.values()) if (n > 1) d += n - 1;
      return d;
    },
    get maxCopies() {
      return Math.max(0, ...copies.values());
    },
    /** Chats with at least one copy, as a snapshot. */
    reachedChats(): Set<string> {
      return new Set([...copies].filter(([, n]) => n > 0).map(([c]) => c));
    },
    get firstAt() {
      return times[0];
    },
    /** When the fake received the first copy after `ms` (epoch ms); NaN if none yet. */
    firstAfter(ms: number): number {
      return times.find((t) => t > ms) ?? NaN;
    },
    get lastAt() {
      return times.at(-1);
    },
    /** Accepted copies per second between the first and the last one. */
    rate(): number {
      if (times.length < 2) return 0;
      return ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    },
    /** Polls until `predicate` holds; throws after `timeoutMs`. */
    async until(predicate: () => boolean, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        tracker.update();
        if (predicate()) return;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (reached ${reached}/${chatIds.length}, copies ${times.length})`);
        await sleep(pollMs);
      }
    },
  };
  return tracker;
}

export type AlertTracker = ReturnType<typeof trackAlert>;

/** Status counts of the Telegram alert rows, read from the database (the service may be running: WAL). */
export async function alertRowStatuses(url: string): Promise<Record<string, number> & { chatsSent: Set<string> }> {
  const { db, close } = await openDatabase(url);
  try {
    const groups = await db.delivery.groupBy({ by: ['status'], where: { kind: 'alert', channel: 'telegram' }, _count: { _all: true } });
    const sent = await db.delivery.findMany({ where: { kind: 'alert', channel: 'telegram', status: 'sent' }, select: { chatId: true } });
    const out = Object.fromEntries(groups.map((g) => [g.status, g._count._all])) as Record<string, number>;
    return Object.assign(out, { chatsSent: new Set(sent.map((s) => s.chatId)) });
  } finally {
    await close();
  }
}

export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}
