/**
 * The delivery worker's statements that differ per engine: claiming queued rows (each row once,
 * whichever instance asks) and recording a batch of sends in one statement.
 */
import { isSqlite, type Db } from '../core/services/db.js';

/**
 * Marks the rows "sending" for `claimer` if they are still queued; returns the ids it got.
 * PostgreSQL locks them with FOR UPDATE SKIP LOCKED (a row another claim is taking is skipped,
 * not waited for); SQLite has one writer at a time. Either way a row is claimed once.
 */
export async function claimQueued(db: Db, ids: string[], claimer: string): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = isSqlite(db)
    ? await db.$queryRawUnsafe<Array<{ id: string }>>(
        `UPDATE "Delivery" SET "status" = 'sending', "claimedBy" = ?
         WHERE "id" IN (SELECT value FROM json_each(?)) AND "status" = 'queued'
         RETURNING "id"`,
        claimer,
        JSON.stringify(ids),
      )
    : await db.$queryRawUnsafe<Array<{ id: string }>>(
        `UPDATE "Delivery" SET "status" = 'sending', "claimedBy" = $1
         WHERE "id" IN (
           SELECT "id" FROM "Delivery" WHERE "id" IN (SELECT json_array_elements_text($2::json)) AND "status" = 'queued'
           FOR UPDATE SKIP LOCKED)
         RETURNING "id"`,
        claimer,
        JSON.stringify(ids),
      );
  return new Set(rows.map((r) => r.id));
}

export interface SentRecord {
  id: string;
  at: Date;
  platformMessageId: string;
}

/**
 * One statement marking every row of the batch sent (a Prisma update per row costs about a
 * millisecond of CPU, which capped a fan-out near 150 messages/s). Returned unawaited, to go
 * into the caller's `$transaction([...])`.
 */
export function markSent(db: Db, sent: SentRecord[]) {
  if (isSqlite(db)) {
    // Timestamps as Prisma's SQLite adapter writes them.
    const data = sent.map((r) => [r.id, r.at.toISOString().replace('Z', '+00:00'), r.platformMessageId]);
    return db.$executeRawUnsafe(
      `UPDATE "Delivery" SET "status" = 'sent', "sentAt" = r.value ->> 1, "platformMessageId" = r.value ->> 2, "error" = NULL
       FROM json_each(?) AS r WHERE "Delivery"."id" = r.value ->> 0`,
      JSON.stringify(data),
    );
  }
  // Prisma's PostgreSQL columns are TIMESTAMP(3) holding UTC: the ISO text's "Z" is dropped by the cast.
  const data = sent.map((r) => ({ id: r.id, at: r.at.toISOString(), mid: r.platformMessageId }));
  return db.$executeRawUnsafe(
    `UPDATE "Delivery" AS d SET "status" = 'sent', "sentAt" = r."at"::timestamp(3), "platformMessageId" = r."mid", "error" = NULL
     FROM json_to_recordset($1::json) AS r("id" text, "at" text, "mid" text) WHERE d."id" = r."id"`,
    JSON.stringify(data),
  );
}
