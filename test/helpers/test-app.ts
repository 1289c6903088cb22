/**
 * Runs the real service in-process for a test: real config parsing, a real SQLite file
 * in a temporary folder (or, with TEST_DATABASE_URL=postgresql://..., a PostgreSQL schema of
 * its own), the real HTTP server on a free port, channels pointed at fakes.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../../src/config.js';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { openDatabase, SQLITE_MIGRATIONS_DIR } from '../../src/persistence/database.js';
import { readMigrations } from '../../src/persistence/migrate.js';
import { silentLogger, createLogger } from '../../src/logger.js';
import { liveApps } from './replies-sent.js';
import { dropPostgresSchema } from '../../bench/postgres-schema.js';

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a database folder (to test restarts); a new one otherwise. */
  dir?: string;
  appOptions?: Partial<AppOptions>;
}

export interface TestApp {
  app: App;
  dir: string;
  baseUrl: string;
  stop(): Promise<void>;
  /** Stops and removes the temporary folder. */
  dispose(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'bot-test-'));
}

/** Set when the suite runs on PostgreSQL (`.ci/run` runs it on both engines). */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL?.startsWith('postgres') ? process.env.TEST_DATABASE_URL : undefined;

/**
 * The database of a test's folder: its SQLite file, or on PostgreSQL a schema named after the
 * folder (so a restart on the same folder finds the same data).
 */
export function testDatabaseUrl(dir: string): string {
  if (!TEST_POSTGRES_URL) return `file:${path.join(dir, 'bot.db')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', `t_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
  return url.toString();
}

/** Drops a test's PostgreSQL schema (nothing to do on SQLite: the folder is removed). */
export const dropTestDatabase: (databaseUrl: string) => Promise<void> = dropPostgresSchema;

/**
 * A migrated, empty SQLite file, made once per test process (and reused by later ones while the
 * migrations are the same: its name carries their checksums). Every new test app starts from a
 * copy of it instead of applying the migrations again; the service still checks them on start
 * (test/persistence/database.test.ts tests the migrator itself on empty files).
 */
let sqliteTemplate: Promise<string> | undefined;
function migratedSqliteTemplate(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const key = createHash('sha256')
      .update(readMigrations(SQLITE_MIGRATIONS_DIR).map((m) => `${m.name}:${m.checksum}`).join('\n'))
      .digest('hex')
      .slice(0, 16);
    const file = path.join(tmpdir(), `bot-test-template-${key}.db`);
    if (existsSync(file)) return file;
    // Made beside it under a name of this process's own, then moved into place in one step, so a
    // test process running at the same time never copies half a file.
    const partial = `${file}.${process.pid}.partial`;
    rmSync(partial, { force: true });
    const opened = await openDatabase(`file:${partial}`);
    await opened.close();
    // Everything into the main file: a copy of that file alone is then the whole database.
    const conn = new Database(partial);
    conn.pragma('wal_checkpoint(TRUNCATE)');
    conn.close();
    if (existsSync(`${partial}-wal`)) throw new Error(`${partial}-wal is still there after the checkpoint`);
    renameSync(partial, file);
    return file;
  })();
  return sqliteTemplate;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? tempDir();
  const dbFile = path.join(dir, 'bot.db');
  if (!TEST_POSTGRES_URL && !existsSync(dbFile)) copyFileSync(await migratedSqliteTemplate(), dbFile);
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: testDatabaseUrl(dir),
    MEDIA_DIR: path.join(dir, 'media'),
    // Tests run on the demo tree unless they say otherwise (the service's default is off once a messenger is configured).
    DEMO_DATA: 'on',
    // Scripted users type faster than people: the per-account message limit (30 per 10 s) is
    // tested on its own (test/security/abuse-limits.test.ts), with MESSAGE_LIMIT set there.
    MESSAGE_LIMIT: 'off',
    ...options.env,
  });
  const logger = process.env.TEST_LOG ? createLogger('debug') : silentLogger;
  const app = await createApp(config, {
    logger,
    zaloPoll: { timeoutSeconds: 1, backoff: { initialMs: 20, maxMs: 200 } },
    ...options.appOptions,
  });
  await app.start();
  liveApps.add(app);
  const baseUrl = `http://127.0.0.1:${app.port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    liveApps.delete(app);
    await app.stop();
  };
  return {
    app,
    dir,
    baseUrl,
    stop,
    async dispose() {
      await stop();
      await dropTestDatabase(config.databaseUrl);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
