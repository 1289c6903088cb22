/** The database handle the domain services write through (a Prisma client, typed only). */
export type { PrismaClient as Db } from '../../generated/prisma/client.js';
export type {
  Person,
  ChannelAccount,
  Area,
  Group,
  Membership,
} from '../../generated/prisma/client.js';

/**
 * True when the client talks to SQLite. A few hot paths (bulk outbox writes, the delivery
 * worker's status writes, the alert audience) use one SQL statement with SQLite's JSON
 * functions instead of a Prisma call per row; on PostgreSQL they keep the Prisma calls.
 */
export function isSqlite(db: object): boolean {
  return (db as { _activeProvider?: string })._activeProvider === 'sqlite';
}
