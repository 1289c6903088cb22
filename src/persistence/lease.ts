/**
 * Leases on the database (table Lease): with several instances on one database, one of them at
 * a time sends a bot token's messages, and one runs the timers. The holder renews its lease every
 * few seconds; a lease not renewed for its time-to-live is free, and another instance takes it.
 *
 * Acquiring and renewing are one conditional UPDATE (the row is free, expired, or already ours),
 * or an INSERT of a new row; both engines make either one atomic, so two instances never both
 * succeed. Expiry uses the instances' clocks: keep them in sync (NTP), as any lease needs.
 *
 * A holder on this machine whose process is gone (a crash, then a restart) does not make the new
 * process wait for the time-to-live: the holder id names its machine and process (see holderId).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../core/services/db.js';
import { sqlRunnerOf } from './hot-path.js';

/**
 * Taking and renewing run as prepared statements (sql-runner.ts), not Prisma queries: the first
 * lease round runs at start-up, and Prisma's first query instantiates its query compiler (75-130
 * ms of WebAssembly on the main thread), which the service now does after its first second.
 */
const SQL = {
  /** Free, expired or ours: take or renew it. */
  renew: `UPDATE "Lease" SET "holder" = ?, "expiresAt" = ?, "updatedAt" = ? WHERE "name" = ? AND ("holder" = ? OR "expiresAt" < ?)`,
  current: `SELECT "holder" FROM "Lease" WHERE "name" = ?`,
  /** Taken over from a holder whose process is gone, unless someone else just did. */
  takeOver: `UPDATE "Lease" SET "holder" = ?, "expiresAt" = ?, "updatedAt" = ? WHERE "name" = ? AND "holder" = ?`,
  /** A new lease; nothing when another instance created it at the same moment. */
  create: `INSERT INTO "Lease" ("name", "holder", "expiresAt", "updatedAt") VALUES (?, ?, ?, ?) ON CONFLICT ("name") DO NOTHING`,
} as const;

/** "<instance name>/<pid>/<random>": unique per process start, readable in the Lease table. */
export function holderId(instanceName: string = hostname()): string {
  return `${instanceName}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

export function createLeases(db: Db, holder: string, now: () => number = Date.now) {
  const [ownName] = holder.split('/');

  /** True when `other` was taken by a process of this machine (same instance name) that no longer runs. */
  function deadHereAndNow(other: string): boolean {
    const [name, pid] = other.split('/');
    if (name !== ownName || !pid || Number(pid) === process.pid || !/^\d+$/.test(pid)) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  return {
    holder,
    /** Takes or renews the lease for `ttlMs`; false when another live holder has it. */
    async acquire(name: string, ttlMs: number): Promise<boolean> {
      const sql = sqlRunnerOf(db);
      const at = new Date(now());
      const until = new Date(at.getTime() + ttlMs);
      if (await sql.run(SQL.renew, holder, until, at, name, holder, at)) return true;
      const current = await sql.get<{ holder: string }>(SQL.current, name);
      if (current) {
        if (!deadHereAndNow(current.holder)) return false;
        // Its process is gone: take it over now, unless someone else just did.
        return (await sql.run(SQL.takeOver, holder, until, at, name, current.holder)) === 1;
      }
      return (await sql.run(SQL.create, name, holder, until, at)) === 1;
    },
    /** Gives the lease up at once (a clean stop), so another instance need not wait for it to expire. */
    async release(name: string): Promise<void> {
      await db.lease.deleteMany({ where: { name, holder } });
    },
    /** Who holds each lease now (health and tests). */
    async holders(): Promise<Array<{ name: string; holder: string; expiresAt: Date }>> {
      return db.lease.findMany({ select: { name: true, holder: true, expiresAt: true }, orderBy: { name: 'asc' } });
    },
  };
}

export type Leases = ReturnType<typeof createLeases>;
