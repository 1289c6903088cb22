/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql) in order.
 *
 * Why not `prisma migrate deploy`: with the JavaScript schema engine it spawns the CLI
 * (seconds per start and per test database) and it cannot migrate PostgreSQL 15 here.
 * This runner keeps Prisma's own bookkeeping table (`_prisma_migrations`, same columns
 * and checksums), so `prisma migrate status` still reads the result.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** The minimal SQL surface a migration needs; implemented for SQLite and PostgreSQL. */
export interface MigrationTarget {
  exec(sql: string): Promise<void>;
  appliedNames(): Promise<Set<string>>;
  record(m: MigrationFile, id: string): Promise<void>;
  transaction(fn: () => Promise<void>): Promise<void>;
}

export async function applyMigrations(target: MigrationTarget, migrations: MigrationFile[]): Promise<string[]> {
  const applied = await target.appliedNames();
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    await target.transaction(async () => {
      await target.exec(m.sql);
      await target.record(m, randomUUID());
    });
    done.push(m.name);
  }
  return done;
}

export const MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;
