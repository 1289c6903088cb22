/**
 * Builds the Prisma client for the configured database and brings its schema up to date.
 * SQLite (the default) runs through better-sqlite3 with WAL, a busy timeout and foreign keys;
 * PostgreSQL runs through node-postgres. Both go through Prisma driver adapters, so no native
 * Prisma engine is ever needed.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root.js';
import Database from 'better-sqlite3';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.js';
import { createSqliteStatements, type SqliteStatements } from './sqlite-statements.js';
import type { SqlRunner } from './sql-runner.js';
import { registerSqlRunner } from './hot-path.js';
import { applyMigrations, MIGRATIONS_TABLE_SQL, readMigrations, type MigrationTarget } from './migrate.js';

export type Db = PrismaClient;

const projectRoot = PROJECT_ROOT;
export const SQLITE_MIGRATIONS_DIR = path.join(projectRoot, 'prisma', 'migrations');
export const POSTGRES_MIGRATIONS_DIR = path.join(projectRoot, 'prisma', 'postgres', 'migrations');

export interface OpenedDatabase {
  db: Db;
  /**
   * Prepared statements for the queries every update runs (sql-runner.ts): on SQLite on the very
   * connection Prisma uses, on PostgreSQL on a small pool of their own.
   */
  sql: SqlRunner;
  /** SQLite only: the same statements with synchronous access (tests). */
  sqlite?: SqliteStatements;
  appliedMigrations: string[];
  close(): Promise<void>;
}

/** Opens (and migrates) the database named by DATABASE_URL. */
export async function openDatabase(databaseUrl: string): Promise<OpenedDatabase> {
  if (databaseUrl.startsWith('file:')) return openSqlite(sqlitePath(databaseUrl));
  return openPostgres(databaseUrl);
}

/** "file:./data/bot.db" -> absolute path; relative paths are taken from the working directory. */
export function sqlitePath(databaseUrl: string): string {
  const raw = databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '');
  return path.resolve(raw);
}

async function openSqlite(file: string): Promise<OpenedDatabase> {
  mkdirSync(path.dirname(file), { recursive: true });
  const appliedMigrations = await migrateSqlite(file);
  // Prisma's adapter opens one better-sqlite3 connection; keep a hand on it so the hot path's
  // prepared statements run on the same connection (one writer, no lock waits between the two).
  const factory = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 10_000 });
  let connection: Database.Database | undefined;
  let opened: ReturnType<typeof factory.connect> | undefined;
  const sharing: typeof factory = Object.assign(Object.create(Object.getPrototypeOf(factory)) as typeof factory, {
    provider: factory.provider,
    adapterName: factory.adapterName,
    // Opened once: here, before Prisma starts, and handed to Prisma when it asks.
    connect: () => (opened ??= openShared()),
    connectToShadowDb: () => factory.connectToShadowDb(),
  });
  async function openShared() {
    const adapter = await factory.connect();
    const conn = (adapter as unknown as { client: Database.Database }).client;
    // Prisma's transactions start with a deferred BEGIN: one that reads, then writes after another
    // process committed fails with SQLITE_BUSY_SNAPSHOT, which no busy timeout can wait out. Taking
    // the write lock at BEGIN makes a second process (or instance) wait its turn instead.
    const prepare = conn.prepare.bind(conn);
    conn.prepare = ((sql: string) => prepare(sql === 'BEGIN' ? 'BEGIN IMMEDIATE' : sql)) as typeof conn.prepare;
    connection = conn;
    return adapter;
  }
  const db = new PrismaClient({ adapter: sharing });
  // Opens the adapter's connection for the hot path's statements. Prisma's own start (its query
  // compiler: 70 ms of WebAssembly) waits for its first query, after the HTTP server listens.
  await sharing.connect();
  if (!connection) throw new Error('the SQLite adapter did not open its connection');
  // Per-connection settings, set on that connection directly (not as Prisma queries, which would
  // each be planned by the query compiler): the adapter keeps one connection, so they hold for its life.
  const conn: Database.Database = connection;
  conn.pragma('journal_mode = WAL');
  conn.pragma('busy_timeout = 10000');
  conn.pragma('foreign_keys = ON');
  conn.pragma('synchronous = NORMAL');
  const sqlite = createSqliteStatements(conn);
  registerSqlRunner(db, sqlite.runner);
  return { db, sql: sqlite.runner, sqlite, appliedMigrations, close: () => db.$disconnect() };
}

async function migrateSqlite(file: string): Promise<string[]> {
  const conn = new Database(file, { timeout: 10_000 });
  try {
    conn.pragma('journal_mode = WAL');
    conn.exec(MIGRATIONS_TABLE_SQL);
    const target: MigrationTarget = {
      async exec(sql) {
        conn.exec(sql);
      },
      async appliedNames() {
        const rows = conn
          .prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
          .all() as { migration_name: string }[];
        return new Set(rows.map((r) => r.migration_name));
      },
      async record(m, id) {
        conn
          .prepare(
            'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count, started_at) VALUES (?, ?, ?, ?, 1, ?)',
          )
          .run(id, m.checksum, Date.now(), m.name, Date.now());
      },
      async transaction(fn) {
        // better-sqlite3 transactions are synchronous; migration statements are too.
        conn.exec('BEGIN IMMEDIATE');
        try {
          await fn();
          conn.exec('COMMIT');
        } catch (error) {
          conn.exec('ROLLBACK');
          throw error;
        }
      },
    };
    return await applyMigrations(target, readMigrations(SQLITE_MIGRATIONS_DIR));
  } finally {
    conn.close();
  }
}

/**
 * PostgreSQL: the same models through a client generated from prisma/postgres/schema.prisma.
 * `?schema=name` in DATABASE_URL selects a schema (created if missing). Migrations run under
 * an advisory lock, so several instances starting at once apply each migration once.
 */
async function openPostgres(databaseUrl: string): Promise<OpenedDatabase> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  const connectionString = url.toString();
  // The PostgreSQL client's code loads while the migration check waits on the server.
  const loading = Promise.all([import('../generated/prisma-pg/client.js'), import('@prisma/adapter-pg'), import('./pg-statements.js')]);
  loading.catch(() => undefined); // a failed migration is the error reported; a failed import is reported below
  const appliedMigrations = await migratePostgres(connectionString, schema);
  const [{ PrismaClient: PgPrismaClient }, { PrismaPg }, { createPgRunner, KEEP_CONNECTIONS }] = await loading;
  // search_path too: raw SQL through Prisma (delivery claims, the alert audience) names tables unqualified.
  const searchPath = `-c search_path="${schema.replace(/"/g, '""')}"`;
  // 20 connections: with 10, a burst of alert answers whose "need help" each opens a case in a
  // transaction queued for connections (the live-counts bench: counts right 17-22 s after the last
  // press instead of 2 s). With the statement pools (pg-statements.ts): up to 39 per instance, kept
  // open once opened (KEEP_CONNECTIONS: a burst after a quiet spell finds them ready).
  const client = new PgPrismaClient({ adapter: new PrismaPg({ connectionString, max: 20, ...KEEP_CONNECTIONS, options: searchPath }, { schema }) });
  // Both clients are generated from the same models; the SQLite one's type describes both.
  const db = client as unknown as Db;
  const sql = createPgRunner(connectionString, schema);
  registerSqlRunner(db, sql);
  return {
    db,
    sql,
    appliedMigrations,
    async close() {
      await sql.close?.();
      await client.$disconnect();
    },
  };
}

async function migratePostgres(connectionString: string, schema: string): Promise<string[]> {
  const { default: pg } = await import('pg');
  const conn = new pg.Client({ connectionString });
  await conn.connect();
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  const migrations = readMigrations(POSTGRES_MIGRATIONS_DIR);
  // The usual start: every migration is applied already. One query says so, without the lock and
  // the DDL below (five more round trips and a wait for any other instance starting).
  const appliedNow = await conn
    .query(`SELECT migration_name FROM ${quoted}."_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`)
    .then(({ rows }) => new Set(rows.map((r: { migration_name: string }) => r.migration_name)))
    .catch(() => new Set<string>()); // no schema or table yet: the path below makes them
  if (migrations.every((m) => appliedNow.has(m.name))) {
    await conn.end();
    return [];
  }
  try {
    await conn.query('SELECT pg_advisory_lock(7270736)');
    await conn.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await conn.query(`SET search_path TO ${quoted}`);
    await conn.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const target: MigrationTarget = {
      async exec(sql) {
        await conn.query(sql);
      },
      async appliedNames() {
        const { rows } = await conn.query('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
        return new Set(rows.map((r: { migration_name: string }) => r.migration_name));
      },
      async record(m, id) {
        await conn.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count, started_at) VALUES ($1, $2, now(), $3, 1, now())',
          [id, m.checksum, m.name],
        );
      },
      async transaction(fn) {
        await conn.query('BEGIN');
        try {
          await fn();
          await conn.query('COMMIT');
        } catch (error) {
          await conn.query('ROLLBACK');
          throw error;
        }
      },
    };
    return await applyMigrations(target, migrations);
  } finally {
    await conn.query('SELECT pg_advisory_unlock(7270736)').catch(() => undefined);
    await conn.end();
  }
}
