/**
 * The delivery worker's statements: finding the rows due (a chat with a direct reply waiting
 * first), claiming them (each row once, whichever instance asks) and recording a batch of sends
 * in one statement. They run on the prepared-statement runner (sql-runner.ts), not through
 * Prisma: a Prisma query costs about 0.8 ms of CPU, and a claim round ran five of them for
 * every reply sent (docs/design-notes.md, "Cost of one update").
 */
import { isSqlite, type Db } from '../core/services/db.js';
import { sqlRunnerOf } from './hot-path.js';
import type { SqlRunner } from './sql-runner.js';

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
const DUE = `"channel" = ? AND "status" = 'queued' AND "nextAttemptAt" <= ?`;

/** Rows of a JSON array of strings given as one parameter. */
function listOf(sql: SqlRunner): string {
  return sql.dialect === 'sqlite' ? 'SELECT value FROM json_each(?)' : 'SELECT json_array_elements_text(?::json)';
}

/**
 * Up to `room` rows due on `channel` at `at`, oldest first, except that the chats with a direct
 * reply waiting come first, with everything queued before the reply for them (order per chat).
 */
export async function dueRows(db: Db, channel: string, at: Date, room: number): Promise<DueRow[]> {
  const sql = sqlRunnerOf(db);
  const list = listOf(sql);
  const replyChats = await sql.all<{ chatId: string }>(
    `SELECT "chatId" FROM "Delivery" WHERE ${DUE} AND "kind" = 'reply' ORDER BY "createdAt", "id" LIMIT ?`,
    channel,
    at,
    room,
  );
  const chats = [...new Set(replyChats.map((r) => r.chatId))];
  const urgent = chats.length
    ? await sql.all<DueRow>(
        `SELECT ${COLUMNS} FROM "Delivery" WHERE ${DUE} AND "chatId" IN (${list}) ORDER BY "createdAt", "id" LIMIT ?`,
        channel,
        at,
        JSON.stringify(chats),
        room,
      )
    : [];
  const rest =
    urgent.length < room
      ? await sql.all<DueRow>(
          `SELECT ${COLUMNS} FROM "Delivery" WHERE ${DUE} AND "id" NOT IN (${list}) ORDER BY "createdAt", "id" LIMIT ?`,
          channel,
          at,
          JSON.stringify(urgent.map((u) => u.id)),
          room - urgent.length,
        )
      : [];
  return [...urgent, ...rest];
}

/** Queued rows of these chats waiting for a retry after `at`: their chats get nothing newer before them. */
export async function rowsWaitingForRetry(db: Db, channel: string, at: Date, chatIds: string[]): Promise<Array<{ chatId: string; createdAt: Date; id: string }>> {
  if (!chatIds.length) return [];
  const sql = sqlRunnerOf(db);
  return sql.all(
    `SELECT "chatId", "createdAt", "id" FROM "Delivery"
     WHERE "channel" = ? AND "status" = 'queued' AND "nextAttemptAt" > ? AND "chatId" IN (${listOf(sql)})`,
    channel,
    at,
    JSON.stringify(chatIds),
  );
}

/**
 * Marks the rows "sending" for `claimer` if they are still queued; returns the ids it got.
 * PostgreSQL locks them with FOR UPDATE SKIP LOCKED (a row another claim is taking is skipped,
 * not waited for); SQLite has one writer at a time. Either way a row is claimed once.
 */
export async function claimQueued(db: Db, ids: string[], claimer: string): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const sql = sqlRunnerOf(db);
  const rows =
    sql.dialect === 'sqlite'
      ? await sql.returning<{ id: string }>(
          `UPDATE "Delivery" SET "status" = 'sending', "claimedBy" = ?
           WHERE "id" IN (SELECT value FROM json_each(?)) AND "status" = 'queued'
           RETURNING "id"`,
          claimer,
          JSON.stringify(ids),
        )
      : await sql.returning<{ id: string }>(
          `UPDATE "Delivery" SET "status" = 'sending', "claimedBy" = ?
           WHERE "id" IN (
             SELECT "id" FROM "Delivery" WHERE "id" IN (SELECT json_array_elements_text(?::json)) AND "status" = 'queued'
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

const MARK_SENT_SQLITE = `UPDATE "Delivery" SET "status" = 'sent', "sentAt" = r.value ->> 1, "platformMessageId" = r.value ->> 2, "error" = NULL
  FROM json_each(?) AS r WHERE "Delivery"."id" = r.value ->> 0`;
// Prisma's PostgreSQL columns are TIMESTAMP(3) holding UTC: the ISO text's "Z" is dropped by the cast.
const MARK_SENT_PG = `UPDATE "Delivery" AS d SET "status" = 'sent', "sentAt" = r."at"::timestamp(3), "platformMessageId" = r."mid", "error" = NULL
  FROM json_to_recordset(?::json) AS r("id" text, "at" text, "mid" text) WHERE d."id" = r."id"`;

function sentJson(sqlite: boolean, sent: SentRecord[]): string {
  // SQLite: timestamps as Prisma's SQLite adapter writes them.
  return JSON.stringify(
    sqlite
      ? sent.map((r) => [r.id, r.at.toISOString().replace('Z', '+00:00'), r.platformMessageId])
      : sent.map((r) => ({ id: r.id, at: r.at.toISOString(), mid: r.platformMessageId })),
  );
}

/**
 * One statement marking every row of the batch sent (a Prisma update per row costs about a
 * millisecond of CPU, which capped a fan-out near 150 messages/s). Returned unawaited, to go
 * into the caller's `$transaction([...])` with the batch's other outcomes.
 */
export function markSent(db: Db, sent: SentRecord[]) {
  const sqlite = isSqlite(db);
  return db.$executeRawUnsafe(sqlite ? MARK_SENT_SQLITE : MARK_SENT_PG.replace('?', '$1'), sentJson(sqlite, sent));
}

/** The same, on its own (a batch of sends only, the usual case): one prepared statement. */
export async function markSentNow(db: Db, sent: SentRecord[]): Promise<void> {
  const sql = sqlRunnerOf(db);
  const sqlite = sql.dialect === 'sqlite';
  await sql.run(sqlite ? MARK_SENT_SQLITE : MARK_SENT_PG, sentJson(sqlite, sent));
}
