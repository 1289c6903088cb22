/**
 * The hot path's prepared statements share Prisma's SQLite connection: rows written by one are
 * read by the other in the same shapes, and a statement transaction never joins an open Prisma one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, type OpenedDatabase } from '../../src/persistence/database.js';
import { newId } from '../../src/persistence/sqlite-statements.js';
import { tempDir } from '../helpers/test-app.js';

let opened: OpenedDatabase | undefined;
let dir = '';
afterEach(async () => {
  await opened?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('prepared statements on Prisma\'s SQLite connection', () => {
  it('read what Prisma wrote and write what Prisma reads, dates and booleans included', async () => {
    dir = tempDir();
    opened = await openDatabase(`file:${path.join(dir, 'bot.db')}`);
    const { db, sqlite } = opened;
    const onboardedAt = new Date('2026-11-30T08:15:00.123Z');
    const person = await db.person.create({ data: { locale: 'en', onboardedAt } });
    const row = sqlite!.query<{ id: string; onboardedAt: Date; deletedAt: Date | null }>('SELECT * FROM "Person" WHERE "id" = ?').get(person.id)!;
    expect(row.onboardedAt).toEqual(onboardedAt);
    expect(row.deletedAt).toBeNull();

    const id = newId();
    const createdAt = new Date('2020-01-01T01:02:03.004Z');
    sqlite!.query('INSERT INTO "Person" ("id", "locale", "createdAt") VALUES (?, ?, ?)').run(id, 'vi', createdAt);
    const back = await db.person.findUniqueOrThrow({ where: { id } });
    expect(back.createdAt).toEqual(createdAt);
    expect(back.locale).toBe('vi');
    // Prisma compares the stored text with its own: the hand-written row sorts among Prisma's.
    expect(await db.person.count({ where: { createdAt: { lt: new Date('2021-01-01T00:00:00Z') } } })).toBe(1);
  });

  it('waits for an open Prisma transaction instead of writing inside it', async () => {
    dir = tempDir();
    opened = await openDatabase(`file:${path.join(dir, 'bot.db')}`);
    const { db, sqlite } = opened;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const prismaTx = db
      .$transaction(async (tx) => {
        await tx.person.create({ data: { id: 'in-prisma-tx', locale: 'vi' } });
        await held;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ours = sqlite!.transaction(() => sqlite!.query('INSERT INTO "Person" ("id", "locale", "createdAt") VALUES (?, ?, ?)').run('ours', 'vi', new Date()));
    release();
    expect(await prismaTx).toBe('rolled back');
    await ours;
    const ids = (await db.person.findMany({ select: { id: true } })).map((p) => p.id);
    expect(ids).toEqual(['ours']);
  });
});
