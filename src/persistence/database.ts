/**
 * Builds the Prisma client for the configured database and brings its schema up to date.
 * SQLite (the default) runs through better-sqlite3 with WAL, a busy timeout and foreign keys;
 * PostgreSQL runs through node-postgres. Both go through Prisma driver adapters, so no native
 * Prisma engine is ever needed.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.js';
import { applyMigrations, MIGRATIONS_TABLE_SQL, readMigrations, type MigrationTarget } from './migrate.js';

export type Db = PrismaClient;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SQLITE_MIGRATIONS_DIR = path.join(projectRoot, 'prisma', 'migrations');

export interface OpenedDatabase {
  db: Db;
  appliedMigrations: string[];
  close(): Promise<void>;
}

/** Opens (and migrates) the database named by DATABASE_URL. */
export async function openDatabase(databaseUrl: string): Promise<OpenedDatabase> {
  if (databaseUrl.startsWith('file:')) return openSqlite(sqlitePath(databaseUrl));
  throw new Error(
    'DATABASE_URL points at PostgreSQL, but this build was generated for SQLite. See "Deploying on PostgreSQL" in the README.',
  );
}

/** "file:./data/bot.db" -> absolute path; relative paths are taken from the working directory. */
export function sqlitePath(databaseUrl: string): string {
  const raw = databaseUrl.replace(/^file:/, '').replace(/\?.*$/, '');
  return path.resolve(raw);
}

async function openSqlite(file: string): Promise<OpenedDatabase> {
  mkdirSync(path.dirname(file), { recursive: true });
  const appliedMigrations = await migrateSqlite(file);
  const adapter = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 10_000 });
  const db = new PrismaClient({ adapter });
  // Per-connection settings: the adapter keeps one connection, so these hold for its life.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$queryRawUnsafe('PRAGMA busy_timeout = 10000');
  await db.$queryRawUnsafe('PRAGMA foreign_keys = ON');
  await db.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  return { db, appliedMigrations, close: () => db.$disconnect() };
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
