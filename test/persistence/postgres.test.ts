/**
 * The service on PostgreSQL: migrations apply (once, even twice started), and the flows
 * work through the PostgreSQL client. Uses the local server CI provides (127.0.0.1:5432,
 * database "test"), each run in a schema of its own that is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient, texts } from '../helpers/web-client.js';
import { openDatabase, POSTGRES_MIGRATIONS_DIR } from '../../src/persistence/database.js';
import { readMigrations } from '../../src/persistence/migrate.js';
import { bookkeepingOf } from '../../src/persistence/sql-runner.js';
import { derivePostgresSchema } from '../../scripts/derive-postgres-schema.js';

const SERVER = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const schema = `bot_test_${randomBytes(4).toString('hex')}`;
const url = `${SERVER}?schema=${schema}`;
let app: TestApp | undefined;

afterAll(async () => {
  await app?.dispose();
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('PostgreSQL', () => {
  it('keeps prisma/postgres/schema.prisma derived from prisma/schema.prisma', () => {
    const sqlite = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
    const postgres = readFileSync(new URL('../../prisma/postgres/schema.prisma', import.meta.url), 'utf8');
    expect(postgres).toBe(derivePostgresSchema(sqlite));
  });

  it('applies the migrations once, even when two instances open the database at the same time', async () => {
    const [a, b] = await Promise.all([openDatabase(url), openDatabase(url)]);
    // One of the two applies every migration, the other none.
    expect([...a.appliedMigrations, ...b.appliedMigrations]).toEqual(readMigrations(POSTGRES_MIGRATIONS_DIR).map((m) => m.name));
    await a.close();
    await b.close();
    const again = await openDatabase(url);
    expect(again.appliedMigrations).toEqual([]);
    await again.close();
  });

  it('opens a migrated database without waiting for the migration lock another instance holds', async () => {
    // Another instance busy migrating (or stuck) holds the lock; with nothing left to apply, this
    // start checks the applied names in one query and goes on instead of queueing behind it.
    const other = new pg.Client({ connectionString: SERVER });
    await other.connect();
    await other.query('SELECT pg_advisory_lock(7270736)');
    try {
      const opened = await openDatabase(url);
      expect(opened.appliedMigrations).toEqual([]);
      await opened.close();
    } finally {
      await other.query('SELECT pg_advisory_unlock(7270736)');
      await other.end();
    }
  });

  it("waits for the disk before an update's own turn commits, not before the worker's bookkeeping does", async () => {
    const opened = await openDatabase(url);
    try {
      const sql = opened.sql;
      const setting = async (runner: typeof sql) => (await runner.get<{ v: string }>(`SELECT current_setting('synchronous_commit') AS "v"`))?.v;
      // The turn (handled mark, state, replies): a webhook is answered only once it is on disk.
      expect(await setting(sql)).toBe('on');
      // Claims, "sent" marks and offered choices: a server crash may resend the last 0.6 s of sends.
      expect(await setting(bookkeepingOf(sql))).toBe('off');
      // Both see the same tables.
      expect(await bookkeepingOf(sql).get<{ n: number }>('SELECT count(*)::int AS "n" FROM "Delivery"')).toEqual({ n: 0 });
    } finally {
      await opened.close();
    }
  });

  it('runs onboarding and a report end to end', async () => {
    app = await startTestApp({ env: { DATABASE_URL: url } });
    const web = createWebClient(app.baseUrl);
    await web.say('/start');
    await web.say('1');
    await web.say('1');
    await web.say('2');
    expect(texts(await web.say('kma234'))).toMatch(/thấy tên của bạn không\?/);
    expect(texts(await web.say('khong'))).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);
    let r = await web.say('/report');
    r = await web.pick(r, 'Không');
    r = await web.pick(r, 'Giao thông');
    r = await web.say('Đèn tín hiệu ở ngã tư hỏng từ sáng');
    r = await web.pick(r, 'Bỏ qua');
    r = await web.pick(r, 'Bỏ qua');
    r = await web.pick(r, 'Kèm tên');
    r = await web.pick(r, 'Gửi phản ánh');
    expect(texts(r)).toMatch(/Mã phản ánh: PA-[A-Z2-9]{4}/);
    const cases = await app.app.db.case.findMany();
    expect(cases).toHaveLength(1);
    expect(cases[0]!.category).toBe('traffic');
  });
});
