/**
 * The delivery worker's statements: finding and claiming the rows due (a chat with a direct reply
 * waiting first; each row once, whichever instance asks) in one statement, and recording a batch
 * of sends in one statement. They run on the prepared-statement runner (sql-runner.ts), not
 * through Prisma: a Prisma query costs about 0.8 ms of CPU (docs/design-notes.md, "Cost of one
 * update").
 */
import { isSqlite, type Db } from '../core/services/db.js';
import { sqlRunnerOf } from './hot-path.js';
import { bookkeepingOf, type SqlRunner } from './sql-runner.js';

/** A queued row as the worker needs it (payload as stored JSON text). */
export interface DueRow {
  id: string;
  chatId: string;
  accountId: string | null;
  kind: string;
  alertId: string | null;
  attempts: number;
  payload: string;
  createdAt: Date;
  traceId: string | null;
}

const COLUMNS = '"id", "chatId", "accountId", "kind", "alertId", "attempts", "payload", "createdAt", "traceId"';

/** Rows of a JSON array of strings given as one parameter. */
function listOf(sql: SqlRunner): string {
  return sql.dialect === 'sqlite' ? 'SELECT value FROM json_each(?)' : 'SELECT json_array_elements_text(?::json)';
}

/**
 * Finds and claims, in one statement, up to `room` rows due on `channel` at `at` for `claimer`:
 * marked "sending" (each row once, whichever instance asks), returned oldest first.
 *
 * Which rows: the chats with a direct reply waiting come first, with everything queued before
 * the reply for them; then the rest, oldest first. A row is left where it is when an older row
 * of its chat waits for a retry (order per chat), or when its chat is in `skipChats` (chats the
 * worker holds back in memory; only the chats with a row waiting look further). It replaces a read of the reply chats, two reads of rows due,
 * a read of the rows waiting for a retry and the claim: five statements per claim, on a path
 * taken once per reply in a conversation (docs/design-notes.md, "Cost of one update").
 *
 * PostgreSQL takes the rows FOR UPDATE SKIP LOCKED (a row another claim is taking is skipped,
 * not waited for); SQLite has one writer at a time.
 */
export async function claimDue(db: Db, channel: string, at: Date, room: number, skipChats: string[], claimer: string): Promise<DueRow[]> {
  if (room <= 0) return [];
  const sql = bookkeepingOf(sqlRunnerOf(db)); // need not wait for the disk: pg-statements.ts
  const list = listOf(sql);
  const pick = `SELECT d."id" FROM "Delivery" d
    WHERE d."channel" = ? AND d."status" = 'queued' AND d."nextAttemptAt" <= ? AND d."chatId" NOT IN (${list})
      AND (d."chatId" NOT IN (SELECT v."chatId" FROM "Delivery" v WHERE v."channel" = ? AND v."status" = 'queued' AND v."nextAttemptAt" > ?)
        OR NOT EXISTS (SELECT 1 FROM "Delivery" w
          WHERE w."channel" = d."channel" AND w."status" = 'queued' AND w."nextAttemptAt" > ? AND w."chatId" = d."chatId"
            AND (w."createdAt" < d."createdAt" OR (w."createdAt" = d."createdAt" AND w."id" < d."id"))))
    ORDER BY d."chatId" IN (SELECT r."chatId" FROM "Delivery" r WHERE r."channel" = ? AND r."status" = 'queued' AND r."nextAttemptAt" <= ? AND r."kind" = 'reply') DESC,
      d."createdAt", d."id"
    LIMIT ?${sql.dialect === 'sqlite' ? '' : ' FOR UPDATE SKIP LOCKED'}`;
  const rows = await sql.returning<DueRow>(
    `UPDATE "Delivery" SET "status" = 'sending', "claimedBy" = ?
     WHERE "id" IN (${pick}) AND "status" = 'queued'
     RETURNING ${COLUMNS}`,
    claimer,
    channel,
    at,
    JSON.stringify(skipChats),
    channel,
    at,
    at,
    channel,
    at,
    room,
  );
  // RETURNING keeps no order: queue order is (createdAt, id), the replies of one turn sharing a creation time.
  for (const row of rows) if (!(row.createdAt instanceof Date)) row.createdAt = new Date(row.createdAt as unknown as string);
  return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface SentRecord {
  id: string;
  at: Date;
  platformMessageId: string;
}

const MARK_SENT_SQLITE = `UPDATE "Delivery" SET "status" = 'sent', "sentAt" = r.value ->> 1, "platformMessageId" = r.value ->> 2, "error" = NULL
  FROM json_each(?) AS r WHERE "Delivery"."id" = r.value ->> 0`;
// Prisma's PostgreSQL columns are TIMESTAMP(3) holding UTC: the ISO text's "Z" is dropped by the cast.
// Three arrays, not one JSON document: the planner reckons unnest of arrays at 10 rows and looks
// each one up by the primary key; json_to_recordset it reckons at 100 and hash-joined them against
// a scan of the whole table (0.8 ms per batch on a bench's few thousand rows, and growing with it).
const MARK_SENT_PG = `UPDATE "Delivery" AS d SET "status" = 'sent', "sentAt" = r."at"::timestamp(3), "platformMessageId" = r."mid", "error" = NULL
  FROM unnest(?::text[], ?::text[], ?::text[]) AS r("id", "at", "mid") WHERE d."id" = r."id"`;

/** The statement's parameters: SQLite's one JSON array of rows (timestamps as Prisma's SQLite adapter writes them), PostgreSQL's three arrays. */
function sentParams(sqlite: boolean, sent: SentRecord[]): unknown[] {
  if (sqlite) return [JSON.stringify(sent.map((r) => [r.id, r.at.toISOString().replace('Z', '+00:00'), r.platformMessageId]))];
  return [sent.map((r) => r.id), sent.map((r) => r.at.toISOString()), sent.map((r) => r.platformMessageId)];
}

/**
 * One statement marking every row of the batch sent (a Prisma update per row costs about a
 * millisecond of CPU, which capped a fan-out near 150 messages/s). Returned unawaited, to go
 * into the caller's `$transaction([...])` with the batch's other outcomes.
 */
export function markSent(db: Db, sent: SentRecord[]) {
  const sqlite = isSqlite(db);
  let n = 0;
  return db.$executeRawUnsafe(sqlite ? MARK_SENT_SQLITE : MARK_SENT_PG.replace(/\?/g, () => `$${++n}`), ...sentParams(sqlite, sent));
}

/** The same, on its own (a batch of sends only, the usual case): one prepared statement. */
export async function markSentNow(db: Db, sent: SentRecord[]): Promise<void> {
  const sql = bookkeepingOf(sqlRunnerOf(db)); // need not wait for the disk: pg-statements.ts
  const sqlite = sql.dialect === 'sqlite';
  await sql.run(sqlite ? MARK_SENT_SQLITE : MARK_SENT_PG, ...sentParams(sqlite, sent));
}
