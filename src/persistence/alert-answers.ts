/**
 * A resident's press of Received / Safe / Need help, on the prepared-statement runner
 * (sql-runner.ts): right after an alert thousands of these arrive within a minute, and through
 * Prisma an answer cost four queries (about 3 ms of CPU) before anything else the update does.
 * Here it is one read (the alert's state and the person's first copy of it) and, when the answer
 * changes, one write.
 */
import type { Db } from '../core/services/db.js';
import { sqlRunnerOf } from './hot-path.js';

export interface AnswerTarget {
  status: string;
  expiresAt: Date;
  /** The person's first copy of the alert (any of their accounts); null when they were not sent one. */
  deliveryId: string | null;
  answer: string | null;
}

const TARGET = `SELECT a."status", a."expiresAt", d."id" AS "deliveryId", d."answer"
  FROM "Alert" a
  LEFT JOIN "Delivery" d ON d."id" = (
    SELECT d2."id" FROM "ChannelAccount" c JOIN "Delivery" d2 ON d2."alertId" = a."id" AND d2."accountId" = c."id"
    WHERE c."personId" = ? AND d2."kind" = 'alert'
    ORDER BY d2."createdAt", d2."id" LIMIT 1)
  WHERE a."id" = ?`;

// A second press of the same answer keeps the first one's time.
const RECORD = `UPDATE "Delivery" SET "answer" = ?, "answeredAt" = ? WHERE "id" = ? AND ("answer" IS NULL OR "answer" <> ?)`;

/** The alert's state and the person's copy of it; undefined when there is no such alert. */
export async function answerTarget(db: Db, alertId: string, personId: string): Promise<AnswerTarget | undefined> {
  return sqlRunnerOf(db).get<AnswerTarget>(TARGET, personId, alertId);
}

/** Records `answer` on the copy unless it already holds it. */
export async function recordAnswer(db: Db, deliveryId: string, answer: string, at: Date): Promise<void> {
  await sqlRunnerOf(db).run(RECORD, answer, at, deliveryId, answer);
}
