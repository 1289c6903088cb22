import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, SQLITE_MIGRATIONS_DIR, type OpenedDatabase } from '../../src/persistence/database.js';
import { readMigrations } from '../../src/persistence/migrate.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const schema = readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
/** Every model in the schema; none is @@map-ped, so each is a table of the same name. */
const models = [...schema.matchAll(/^model\s+(\w+)\s*\{/gm)].map((m) => m[1]!);

let dir: string;
let opened: OpenedDatabase[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bot-db-'));
});
afterEach(async () => {
  for (const o of opened) await o.close();
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

async function open(): Promise<OpenedDatabase> {
  const o = await openDatabase(`file:${path.join(dir, 'sub', 'bot.db')}`);
  opened.push(o);
  return o;
}

async function close(o: OpenedDatabase) {
  await o.close();
  opened = opened.filter((x) => x !== o);
}

/** PRAGMA answers come back as one row; SQLite integers arrive as BigInt. */
async function pragma(o: OpenedDatabase, name: string): Promise<unknown> {
  const rows = await o.db.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${name}`);
  expect(rows).toHaveLength(1);
  const value = Object.values(rows[0]!)[0];
  return typeof value === 'bigint' ? Number(value) : value;
}

describe('openDatabase (SQLite)', () => {
  it('creates the file and applies the migration, making every table of the schema', async () => {
    expect(models.length).toBeGreaterThan(10);
    const migrations = readMigrations(SQLITE_MIGRATIONS_DIR);
    expect(migrations.length).toBeGreaterThan(0);

    const o = await open();
    expect(o.appliedMigrations).toEqual(migrations.map((m) => m.name));

    const rows = await o.db.$queryRawUnsafe<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type = 'table'");
    const tables = rows.map((r) => r.name);
    for (const model of models) expect(tables, `table ${model}`).toContain(model);
    expect(tables).toContain('_prisma_migrations');
    // The generated client works against it.
    expect(await o.db.person.count()).toBe(0);
  });

  it('turns on WAL, foreign keys and a busy timeout for the connection the app uses', async () => {
    const o = await open();
    expect(String(await pragma(o, 'journal_mode')).toLowerCase()).toBe('wal');
    expect(await pragma(o, 'foreign_keys')).toBe(1);
    expect(await pragma(o, 'busy_timeout')).toBeGreaterThan(0);
    // Foreign keys are enforced, not only declared.
    await expect(o.db.membership.create({ data: { groupId: 'no-such-group', personId: 'no-such-person' } })).rejects.toMatchObject({ code: 'P2003' });
  });

  it('records the migration with its checksum and applies nothing twice', async () => {
    const first = await open();
    await first.db.person.create({ data: { displayName: 'kept' } });
    await close(first);

    const second = await open();
    expect(second.appliedMigrations).toEqual([]);
    expect(await second.db.person.count()).toBe(1);

    const rows = await second.db.$queryRawUnsafe<
      { migration_name: string; checksum: string; finished_at: unknown; rolled_back_at: unknown; applied_steps_count: unknown }[]
    >('SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
    const migrations = readMigrations(SQLITE_MIGRATIONS_DIR);
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [i, m] of migrations.entries()) {
      const row = rows[i]!;
      // Prisma's checksum: sha256 of migration.sql, hex.
      const sql = readFileSync(path.join(SQLITE_MIGRATIONS_DIR, m.name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(Number(row.applied_steps_count)).toBe(1);
    }
  });
});
