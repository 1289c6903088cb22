/**
 * The outbox worker of one channel: claims queued delivery rows, sends them under the
 * platform's limits, and records the outcome on each row.
 *
 * - Messages to one chat go out in the order they were queued, one at a time.
 * - 429 answers pause the channel for retry_after; network errors and 5xx retry with backoff.
 * - A permanent refusal marks the row failed; "blocked"/"chat gone" also marks the account
 *   unreachable and fails its other queued rows.
 * - Rows are marked "sending" when claimed. After a crash, `recover()` puts them back in the
 *   queue: those that had already left are the only possible duplicates.
 */
import { isSqlite, type Db } from '../core/services/db.js';
import type { Outbound } from '../core/messages.js';
import type { Logger } from '../logger.js';
import type { SendFailure } from './send-outcome.js';
import { createRateLimiter, type RateLimits } from './rate-limiter.js';

export interface DeliveryTarget {
  readonly name: string;
  deliver(chatId: string, out: Outbound): Promise<string[]>;
  classifyError(error: unknown): SendFailure;
  isGroupChat(chatId: string): boolean;
}

export interface SentRow {
  id: string;
  accountId: string | null;
  kind: string;
  alertId: string | null;
  payload: Outbound;
  messageIds: string[];
}

export interface DeliveryWorkerOptions {
  db: Db;
  target: DeliveryTarget;
  limits: RateLimits;
  logger: Logger;
  now?: () => number;
  concurrency?: number;
  batchSize?: number;
  idlePollMs?: number;
  maxAttempts?: number;
  /**
   * Called with the rows just recorded as sent (in the order they went out), e.g. to let a typed
   * number answer the message. Batched with the status writes: one call per flush, not per send.
   */
  afterSent?(rows: SentRow[]): Promise<void>;
}

interface Claimed {
  id: string;
  chatId: string;
  accountId: string | null;
  kind: string;
  alertId: string | null;
  attempts: number;
  payload: Outbound;
}

type Result =
  | { id: string; ok: true; messageIds: string[]; at: Date; row: Claimed }
  | { id: string; ok: false; failure: SendFailure; attempts: number; accountId: string | null; at: Date };

export function createDeliveryWorker(options: DeliveryWorkerOptions) {
  const { db, target, logger } = options;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.batchSize ?? 500;
  const idlePollMs = options.idlePollMs ?? 250;
  const maxAttempts = options.maxAttempts ?? 8;
  const limiter = createRateLimiter(options.limits, now);

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const results: Result[] = [];
  let stats = { sent: 0, failed: 0, retried: 0, rateLimited: 0 };

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        if (wake === done) wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function claim(): Promise<Claimed[]> {
    const at = new Date(now());
    const candidates = await db.delivery.findMany({
      where: { channel: target.name, status: 'queued', nextAttemptAt: { lte: at } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
      select: { id: true, chatId: true, accountId: true, kind: true, alertId: true, attempts: true, payload: true, createdAt: true },
    });
    if (!candidates.length) return [];
    // A chat whose older message waits for a retry gets nothing newer before it: order per chat holds.
    const waiting = await db.delivery.findMany({
      where: { channel: target.name, status: 'queued', nextAttemptAt: { gt: at }, chatId: { in: [...new Set(candidates.map((c) => c.chatId))] } },
      select: { chatId: true, createdAt: true },
    });
    const heldSince = new Map<string, number>();
    for (const w of waiting) heldSince.set(w.chatId, Math.min(heldSince.get(w.chatId) ?? Infinity, w.createdAt.getTime()));
    const rows = candidates.filter((c) => !(c.createdAt.getTime() > (heldSince.get(c.chatId) ?? Infinity)));
    if (!rows.length) return [];
    await db.delivery.updateMany({ where: { id: { in: rows.map((r) => r.id) }, status: 'queued' }, data: { status: 'sending' } });
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Outbound }));
  }

  async function flush(): Promise<void> {
    if (!results.length) return;
    const batch = results.splice(0, results.length);
    const ops = [];
    const sent = batch.filter((r) => r.ok);
    if (sent.length && isSqlite(db)) {
      // On SQLite one statement for every success (a Prisma update costs about a millisecond of CPU,
      // which capped a fan-out near 150 messages/s). Timestamps as Prisma's SQLite adapter writes them.
      const data = sent.map((r) => [r.id, r.at.toISOString().replace('Z', '+00:00'), r.messageIds.join(',')]);
      ops.push(
        db.$executeRawUnsafe(
          `UPDATE "Delivery" SET "status" = 'sent', "sentAt" = r.value ->> 1, "platformMessageId" = r.value ->> 2, "error" = NULL
           FROM json_each(?) AS r WHERE "Delivery"."id" = r.value ->> 0`,
          JSON.stringify(data),
        ),
      );
    } else {
      for (const r of sent) {
        ops.push(db.delivery.update({ where: { id: r.id }, data: { status: 'sent', sentAt: r.at, platformMessageId: r.messageIds.join(','), error: null } }));
      }
    }
    for (const r of batch) {
      if (r.ok) continue;
      const f = r.failure;
      // A 429 says when to come back, so it may be retried longer than a network error, but not for ever.
      if (f.kind === 'retry' && r.attempts < (f.afterMs !== undefined ? maxAttempts * 5 : maxAttempts)) {
        const backoff = f.afterMs ?? Math.min(2 ** r.attempts * 1000, 5 * 60_000);
        ops.push(db.delivery.update({ where: { id: r.id }, data: { status: 'queued', attempts: r.attempts, error: f.reason, nextAttemptAt: new Date(r.at.getTime() + backoff) } }));
      } else {
        ops.push(db.delivery.update({ where: { id: r.id }, data: { status: 'failed', attempts: r.attempts, error: f.reason } }));
        if (f.kind === 'permanent' && f.unreachable && r.accountId) {
          ops.push(db.channelAccount.update({ where: { id: r.accountId }, data: { unreachableAt: r.at, unreachableReason: f.reason } }));
          ops.push(db.delivery.updateMany({ where: { accountId: r.accountId, status: 'queued' }, data: { status: 'failed', error: `account unreachable: ${f.reason}` } }));
        }
      }
    }
    await db.$transaction(ops);
    if (sent.length && options.afterSent) {
      const rows = sent.map(({ row, messageIds }) => ({ id: row.id, accountId: row.accountId, kind: row.kind, alertId: row.alertId, payload: row.payload, messageIds }));
      await options.afterSent(rows).catch((error) => logger.warn('after-send hook failed', { error }));
    }
  }

  async function sendOne(row: Claimed, stalledChats: Set<string>): Promise<void> {
    const at = () => new Date(now());
    try {
      const messageIds = await target.deliver(row.chatId, row.payload);
      results.push({ id: row.id, ok: true, messageIds, at: at(), row });
      stats.sent++;
    } catch (error) {
      const failure = target.classifyError(error);
      results.push({ id: row.id, ok: false, failure, attempts: row.attempts + 1, accountId: row.accountId, at: at() });
      if (failure.kind === 'retry') {
        stalledChats.add(row.chatId);
        stats.retried++;
        if (failure.afterMs) {
          stats.rateLimited++;
          if (failure.pauseChannel) limiter.pauseUntil(now() + failure.afterMs);
        }
        logger.warn(`${target.name} send will be retried: ${failure.reason}`);
      } else {
        stats.failed++;
        logger.warn(`${target.name} send failed for good: ${failure.reason}`);
      }
    }
  }

  /** Sends a claimed batch under the limits, in order per chat, `concurrency` at a time. */
  async function sendBatch(rows: Claimed[]): Promise<void> {
    const pending = rows.slice();
    const busyChats = new Set<string>();
    // Chats whose message failed and will be retried: their later rows go back to the queue.
    const stalledChats = new Set<string>();
    const released: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let lastFlush = now();
    while (pending.length || inFlight.size) {
      let minWait = Infinity;
      const blocked = new Set<string>();
      for (let i = 0; i < pending.length && inFlight.size < concurrency && running; ) {
        const row = pending[i]!;
        if (stalledChats.has(row.chatId)) {
          pending.splice(i, 1);
          released.push(row.id);
          continue;
        }
        if (busyChats.has(row.chatId) || blocked.has(row.chatId)) {
          i++;
          continue;
        }
        const bookedAt = now();
        const wait = limiter.reserve(row.chatId, target.isGroupChat(row.chatId), bookedAt);
        if (wait > 0) {
          blocked.add(row.chatId);
          minWait = Math.min(minWait, wait);
          if (limiter.globalWait() > 0) break; // the overall limit holds everyone back
          i++;
          continue;
        }
        pending.splice(i, 1);
        busyChats.add(row.chatId);
        const p: Promise<void> = sendOne(row, stalledChats).finally(() => {
          limiter.finished(row.chatId, bookedAt); // the slot counts from the answer: see finished()
          busyChats.delete(row.chatId);
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (!running && !inFlight.size) break;
      if (now() - lastFlush >= 100 || results.length >= 200) {
        lastFlush = now();
        await flush();
      }
      if (inFlight.size) await Promise.race([...inFlight, delay(Number.isFinite(minWait) ? minWait : 50)]);
      else if (Number.isFinite(minWait)) await delay(minWait);
      else if (!pending.length) break;
    }
    await flush();
    if (released.length) {
      await db.delivery.updateMany({ where: { id: { in: released }, status: 'sending' }, data: { status: 'queued' } });
    }
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        const rows = await claim();
        if (!rows.length) {
          await sleep(idlePollMs);
          continue;
        }
        await sendBatch(rows);
        if (!running) {
          // Stopped mid-batch: rows never attempted go back to the queue.
          await db.delivery.updateMany({ where: { id: { in: rows.map((r) => r.id) }, status: 'sending' }, data: { status: 'queued' } });
        }
      } catch (error) {
        logger.error(`${target.name} delivery loop failed; retrying`, { error });
        await sleep(1000);
      }
    }
  }

  return {
    /** Puts rows left "sending" by a crash back in the queue; returns how many. */
    async recover(): Promise<number> {
      const { count } = await db.delivery.updateMany({ where: { channel: target.name, status: 'sending' }, data: { status: 'queued' } });
      return count;
    },
    async start(): Promise<void> {
      if (running) return;
      running = true;
      loop = run();
    },
    /** Wakes the worker now (called after something was queued in this process). */
    kick() {
      wake?.();
    },
    async stop(): Promise<void> {
      running = false;
      wake?.();
      await loop;
    },
    stats: () => ({ ...stats }),
    resetStats() {
      stats = { sent: 0, failed: 0, retried: 0, rateLimited: 0 };
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
