/**
 * The leases several instances share (persistence/lease.ts) and the keeper that runs work only
 * while it holds one (jobs/lease-keeper.ts), on the test's database (SQLite, or PostgreSQL with
 * TEST_DATABASE_URL), with a controllable clock: nothing here waits for real time to pass.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/persistence/database.js';
import { createLeases } from '../../src/persistence/lease.js';
import { startLeaseKeeper } from '../../src/jobs/lease-keeper.js';
import { silentLogger } from '../../src/logger.js';
import { dropTestDatabase, tempDir, testDatabaseUrl } from '../helpers/test-app.js';

const TTL = 6_000;
const EVERY = 2_000;

let opened: OpenedDatabase | undefined;
let url = '';
let dir = '';
afterEach(async () => {
  await opened?.close();
  await dropTestDatabase(url);
  rmSync(dir, { recursive: true, force: true });
  opened = undefined;
});

async function database() {
  dir = tempDir();
  url = testDatabaseUrl(dir);
  opened = await openDatabase(url);
  return opened.db;
}

function clock(start = Date.now()) {
  let at = start;
  return { now: () => at, advance: (ms: number) => void (at += ms) };
}

/** The pid of a process that has just exited (nothing runs under it now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('leases', () => {
  it('one holder at a time; another takes the lease only once it was not renewed for its time-to-live', async () => {
    const db = await database();
    const c = clock();
    const a = createLeases(db, 'machine-a/101/aaaa', c.now);
    const b = createLeases(db, 'machine-b/202/bbbb', c.now);
    expect(await a.acquire('sender:telegram:1', TTL)).toBe(true);
    expect(await b.acquire('sender:telegram:1', TTL)).toBe(false);
    c.advance(TTL - 1);
    expect(await b.acquire('sender:telegram:1', TTL)).toBe(false);
    expect(await a.acquire('sender:telegram:1', TTL)).toBe(true); // renewed: another ttl from now
    c.advance(TTL - 1);
    expect(await b.acquire('sender:telegram:1', TTL)).toBe(false);
    // a stops renewing (it died): once its lease expired, b has it, and a cannot renew any more.
    c.advance(2);
    expect(await b.acquire('sender:telegram:1', TTL)).toBe(true);
    expect(await a.acquire('sender:telegram:1', TTL)).toBe(false);
    expect((await a.holders()).map((l) => [l.name, l.holder])).toEqual([['sender:telegram:1', 'machine-b/202/bbbb']]);
    // Leases are independent of each other.
    expect(await a.acquire('timers', TTL)).toBe(true);
    // A clean stop hands a lease over at once.
    await b.release('sender:telegram:1');
    expect(await a.acquire('sender:telegram:1', TTL)).toBe(true);
  });

  it('two instances asking at the same moment: exactly one gets it', async () => {
    const db = await database();
    const c = clock();
    const holders = Array.from({ length: 6 }, (_, i) => createLeases(db, `machine-${i}/${1000 + i}/x`, c.now));
    const got = await Promise.all(holders.map((h) => h.acquire('timers', TTL)));
    expect(got.filter(Boolean)).toHaveLength(1);
  });

  it("a restart on the same machine takes its dead process's lease at once", async () => {
    const db = await database();
    const c = clock();
    const dead = createLeases(db, `machine-a/${await deadPid()}/dead`, c.now);
    expect(await dead.acquire('sender:telegram:1', TTL)).toBe(true);
    // Another machine must wait for the time-to-live...
    expect(await createLeases(db, 'machine-b/303/bbbb', c.now).acquire('sender:telegram:1', TTL)).toBe(false);
    // ... the new process on the same machine need not: the holder's process is gone.
    expect(await createLeases(db, `machine-a/${process.pid}/new1`, c.now).acquire('sender:telegram:1', TTL)).toBe(true);
    // But a live process of the same machine (here: this one) keeps its lease.
    expect(await createLeases(db, `machine-a/${process.pid}/new2`, c.now).acquire('sender:telegram:1', TTL)).toBe(false);
  });
});

describe('lease keeper', () => {
  it('starts the work where the lease is taken, stops it where it is lost, and fences a holder that stopped renewing', async () => {
    const db = await database();
    const c = clock();
    const events: string[] = [];
    const keeper = (name: string) =>
      startLeaseKeeper({
        leases: createLeases(db, `${name}/${1000 + name.length}/k`, c.now),
        work: [{ name: 'sender:telegram:1', start: async () => void events.push(`${name} starts`), stop: async () => void events.push(`${name} stops`) }],
        logger: silentLogger,
        ttlMs: TTL,
        everyMs: EVERY,
        now: c.now,
      });
    const a = keeper('machine-a');
    const b = keeper('machine-bb');
    try {
      await a.tick();
      await b.tick();
      expect(events).toEqual(['machine-a starts']);
      expect(a.holds('sender:telegram:1')).toBe(true);
      expect(b.holds('sender:telegram:1')).toBe(false);

      // a hangs (no renewal): it stops acting on its own before the lease can pass to b.
      c.advance(TTL - EVERY / 2);
      expect(a.holds('sender:telegram:1')).toBe(false);
      await b.tick();
      expect(events).toEqual(['machine-a starts']); // not expired yet: b waits
      c.advance(EVERY / 2 + 1);
      await b.tick();
      expect(events).toEqual(['machine-a starts', 'machine-bb starts']);
      expect(b.holds('sender:telegram:1')).toBe(true);
      // a wakes up: its renewal fails, so it stops its work for good.
      await a.tick();
      expect(events).toEqual(['machine-a starts', 'machine-bb starts', 'machine-a stops']);

      // b stops cleanly: the lease is handed over at the next try, without waiting for it to expire.
      await b.stop();
      await a.tick();
      expect(events).toEqual(['machine-a starts', 'machine-bb starts', 'machine-a stops', 'machine-bb stops', 'machine-a starts']);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
