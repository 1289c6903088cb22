/**
 * The outbox worker of one channel: claims queued delivery rows (direct replies and
 * notifications alike), sends them under the platform's limits, and records the outcome on
 * each row.
 *
 * - Messages to one chat go out in the order they were queued, one at a time.
 * - The worker claims continuously: a reply queued while a fan-out is being sent is claimed at
 *   once (the worker is kicked) and its chat goes ahead of chats that only have notifications.
 * - 429 answers pause the channel for retry_after and are retried until sent; network errors and
 *   5xx retry with backoff (a bounded number of times).
 * - A permanent refusal marks the row failed; "blocked"/"chat gone" also marks the account
 *   unreachable and fails its other queued rows.
 * - Rows are marked "sending" when claimed. An outcome is written as soon as the platform
 *   answered (group commit: the answers that arrive together share one write), and a send's slot
 *   is freed only once its outcome is written, so at any moment at most `concurrency` rows can
 *   have reached the platform without being recorded. After a crash, `recover()` puts "sending"
 *   rows back in the queue: those (at most `concurrency`) are the only possible duplicates.
 * - Several instances: only the holder of the channel's sender lease runs this worker (app.ts,
 *   jobs/lease-keeper.ts), so one rate limiter paces each bot token. Claims are still taken with
 *   a conditional write that only one instance can win (persistence/delivery-claims.ts), and rows
 *   handed back are only those this instance claimed (`claimedBy`).
 * - Each send is logged with the log id of the update that queued it (Delivery.traceId).
 * - `beforeSend` sees the rows of each dispatch before any of them goes out (one call for the
 *   rows started together), so what it records (a notification's numbered choices) is in place
 *   when the message reaches the person, who may answer before the platform answered the send.
 *   `refused` sees those rows again if the platform refused them for good.
 */
import type { Db } from '../core/services/db.js';
import { claimDue, markSent, markSentNow, type DueRow } from '../persistence/delivery-claims.js';
import { sqlRunnerOf, type DeliveryRow } from '../persistence/hot-path.js';
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

/** A direct reply stored claimed by this worker (its `claimer()` id) and handed over after the commit. */
export type HandedRow = Pick<DeliveryRow, 'id' | 'chatId' | 'accountId' | 'kind' | 'payload' | 'traceId'>;

/** A claimed row as the hooks see it. */
export interface OutgoingRow {
  id: string;
  accountId: string | null;
  kind: string;
  alertId: string | null;
  payload: Outbound;
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
  /** Written on the rows this worker claims (Delivery.claimedBy): its instance's lease holder id. */
  instanceId?: string;
  /** Checked before each claim: false while this instance may no longer be the channel's sender. */
  mayClaim?: () => boolean;
  /**
   * Called with the rows about to be sent, before any of them goes out (one call for the rows a
   * dispatch starts together; none when it starts nothing), e.g. to let a typed number answer
   * the message the moment it arrives. The sends wait for it; if it fails, that is logged and
   * they go anyway.
   */
  beforeSend?(rows: OutgoingRow[]): Promise<void>;
  /**
   * Called with the rows the platform refused for good (recorded as failed), after that is
   * written, e.g. to withdraw what `beforeSend` recorded for a message that never arrived.
   */
  refused?(rows: OutgoingRow[]): Promise<void>;
}

/** A row this worker claimed: the row as read (persistence/delivery-claims.ts), its payload parsed. */
type Claimed = Omit<DueRow, 'payload' | 'createdAt'> & { payload: Outbound };

type Result =
  | { id: string; ok: true; messageIds: string[]; at: Date; row: Claimed }
  | { id: string; ok: false; failure: SendFailure; attempts: number; accountId: string | null; chatId: string; at: Date; row: Claimed };

interface Pending {
  result: Result;
  recorded: () => void;
}

/** While busy, the queue is looked at again this often for new and retried rows (a kick is at once). */
const CLAIM_EVERY_MS = 100;

export function createDeliveryWorker(options: DeliveryWorkerOptions) {
  const { db, target, logger } = options;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.batchSize ?? 500;
  const idlePollMs = options.idlePollMs ?? 250;
  const maxAttempts = options.maxAttempts ?? 8;
  const limiter = createRateLimiter(options.limits, now);
  const instanceId = options.instanceId ?? 'local';

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let kicked = false;
  /** When the queue was last looked at: a claim, or a turn that found nothing of the channel queued (adopt). */
  let lastLook = 0;
  let stats = { sent: 0, failed: 0, retried: 0, rateLimited: 0 };

  /** Claimed rows not sent yet, in queue order. */
  let queue: Claimed[] = [];
  const queuedIds = new Set<string>();
  const busyChats = new Set<string>();
  /** Chats whose row failed and waits for its retry: their later rows go back to the queue with it. */
  const stalledChats = new Set<string>();
  /** Chats the platform rate-limited lately: their direct replies keep to the chat rate for a while. */
  const floodedChats = new Map<string, number>();
  /** Rows handed back to the queue, written with the next outcomes. */
  let released: Array<{ id: string; chatId: string }> = [];
  const inFlight = new Set<Promise<void>>();
  /** Outcomes waiting to be written. */
  let unwritten: Pending[] = [];
  let writing: Promise<void> | undefined;

  /** Waits until `ms` passed (true), the worker is kicked, a send ends or rows are handed over (false). */
  function pause(ms: number): Promise<boolean> {
    if (kicked) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(true), Math.max(1, ms));
      function done(timedOut = false) {
        clearTimeout(timer);
        if (wake === done) wake = undefined;
        resolve(timedOut);
      }
      wake = done;
    });
  }
  function nudge() {
    wake?.();
  }

  /**
   * Claims and outcome writes take turns: a claim must see a failed row's retry time (which holds
   * its chat's newer rows back) either wholly before or wholly after the write that records it.
   */
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = turn.then(fn, fn);
    turn = run.catch(() => undefined);
    return run;
  }

  function claim(): Promise<number> {
    return exclusive(claimRows);
  }

  async function claimRows(): Promise<number> {
    const at = new Date(now());
    const room = batchSize - queue.length;
    if (room <= 0) return 0;
    if (options.mayClaim && !options.mayClaim()) return 0;
    // One statement finds and claims the rows due: chats with a direct reply waiting first, with
    // everything queued before it for them; nothing newer than a row of its chat waiting for a
    // retry; nothing of a chat held back here (persistence/delivery-claims.ts).
    const rows = await claimDue(db, target.name, at, room, [...stalledChats], instanceId);
    if (!rows.length) return 0;
    for (const r of rows) {
      if (stalledChats.has(r.chatId)) {
        // Its chat stalled (a send failed) while this claim ran: back to the queue behind the failed row.
        released.push({ id: r.id, chatId: r.chatId });
        continue;
      }
      queuedIds.add(r.id);
      queue.push({ id: r.id, chatId: r.chatId, accountId: r.accountId, kind: r.kind, alertId: r.alertId, attempts: r.attempts, payload: JSON.parse(r.payload) as Outbound, traceId: r.traceId });
    }
    if (released.length) void write();
    return rows.length;
  }

  /** Writes every outcome waiting, in one transaction; frees their slots afterwards. */
  function write(): Promise<void> {
    if (writing) return writing;
    writing = (async () => {
      while (unwritten.length || released.length) {
        const batch = unwritten;
        unwritten = [];
        const back = released;
        released = [];
        try {
          await exclusive(() => record(batch.map((p) => p.result), back.map((r) => r.id)));
        } catch (error) {
          // Not written: the rows stay "sending" and are sent again after a restart (recover()).
          logger.error(`${target.name} delivery: recording outcomes failed`, { error });
        }
        // A stalled chat's order is held by the database (its failed row's retry time) once the
        // failure and every row handed back are written: only then may its rows be claimed again.
        for (const chat of [...stalledChats]) {
          const pending = unwritten.some((p) => !p.result.ok && p.result.chatId === chat) || released.some((r) => r.chatId === chat);
          if (!pending) stalledChats.delete(chat);
        }
        for (const p of batch) p.recorded();
        nudge();
      }
    })().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  async function record(batch: Result[], back: string[]): Promise<void> {
    const ops = [];
    const sent = batch.filter((r): r is Extract<Result, { ok: true }> => r.ok);
    const sentRecords = sent.map((r) => ({ id: r.id, at: r.at, platformMessageId: r.messageIds.join(',') }));
    if (sent.length === batch.length && !back.length && !sent.some((r) => r.row.kind === 'reply' && r.row.accountId === null)) {
      // The usual batch, sends only: one prepared statement instead of a Prisma transaction.
      await markSentNow(db, sentRecords);
      return;
    }
    // One statement for every success, whatever the engine (persistence/delivery-claims.ts).
    if (sent.length) ops.push(markSent(db, sentRecords));
    const refused: Claimed[] = [];
    for (const r of batch) {
      if (r.ok) continue;
      const f = r.failure;
      // A 429 says when to come back: retried until sent. Other transient errors: a bounded number of times.
      if (f.kind === 'retry' && (f.afterMs !== undefined || r.attempts < maxAttempts)) {
        const backoff = f.afterMs ?? Math.min(2 ** r.attempts * 1000, 5 * 60_000);
        ops.push(db.delivery.update({ where: { id: r.id }, data: { status: 'queued', attempts: r.attempts, error: f.reason, nextAttemptAt: new Date(r.at.getTime() + backoff) } }));
      } else {
        ops.push(db.delivery.update({ where: { id: r.id }, data: { status: 'failed', attempts: r.attempts, error: f.reason } }));
        refused.push(r.row);
        if (f.kind === 'permanent' && f.unreachable && r.accountId) {
          ops.push(db.channelAccount.updateMany({ where: { id: r.accountId }, data: { unreachableAt: r.at, unreachableReason: f.reason } }));
          ops.push(db.delivery.updateMany({ where: { accountId: r.accountId, status: 'queued' }, data: { status: 'failed', error: `account unreachable: ${f.reason}` } }));
        }
      }
    }
    if (back.length) ops.push(handBack(back));
    // The goodbye to a person who just erased their data was queued without an account: once sent,
    // nothing of theirs (not even the chat id) stays behind.
    const erasedReplies = sent.filter((r) => r.row.kind === 'reply' && r.row.accountId === null).map((r) => r.id);
    if (erasedReplies.length) ops.push(db.delivery.deleteMany({ where: { id: { in: erasedReplies } } }));
    if (ops.length) await db.$transaction(ops);
    if (refused.length && options.refused) await options.refused(refused.map(outgoing)).catch((error) => logger.warn('refused-send hook failed', { error }));
  }

  /** Rows this worker claimed and will not send go back to the queue (unless claimed since by another). */
  function handBack(ids: string[]) {
    return db.delivery.updateMany({ where: { id: { in: ids }, status: 'sending', claimedBy: instanceId }, data: { status: 'queued' } });
  }

  function outgoing(row: Claimed): OutgoingRow {
    return { id: row.id, accountId: row.accountId, kind: row.kind, alertId: row.alertId, payload: row.payload };
  }

  async function sendOne(row: Claimed, bookedAt: number, ready: Promise<void>): Promise<void> {
    const at = () => new Date(now());
    let result: Result;
    await ready;
    try {
      const messageIds = await target.deliver(row.chatId, row.payload);
      limiter.finished(row.chatId, bookedAt); // the slot counts from the answer: see finished()
      result = { id: row.id, ok: true, messageIds, at: at(), row };
      stats.sent++;
      // A direct reply is worth a line (it closes what its update's lines opened); a fan-out's copies only at debug.
      const line = { trace: row.traceId ?? undefined, delivery: row.id, channel: target.name, kind: row.kind };
      if (row.kind === 'reply') logger.info('delivery sent', line);
      else logger.debug('delivery sent', line);
    } catch (error) {
      limiter.finished(row.chatId, bookedAt);
      const failure = target.classifyError(error);
      result = { id: row.id, ok: false, failure, attempts: row.attempts + 1, accountId: row.accountId, chatId: row.chatId, at: at(), row };
      if (failure.kind === 'retry') {
        stalledChats.add(row.chatId);
        releaseChat(row.chatId);
        stats.retried++;
        if (failure.afterMs) {
          stats.rateLimited++;
          // This chat is flooded: its replies too keep to the chat rate for the next half minute.
          floodedChats.set(row.chatId, now() + 30_000);
          if (floodedChats.size > 10_000) for (const [chat, until] of floodedChats) if (until < now()) floodedChats.delete(chat);
          if (failure.pauseChannel) limiter.pauseUntil(now() + failure.afterMs);
        }
        logger.warn(`${target.name} send will be retried: ${failure.reason}`, { trace: row.traceId ?? undefined, delivery: row.id, kind: row.kind });
      } else {
        stats.failed++;
        logger.warn(`${target.name} send failed for good: ${failure.reason}`, { trace: row.traceId ?? undefined, delivery: row.id, kind: row.kind });
      }
    }
    // The slot is free only once the outcome is written: an answered send is never left unrecorded for long.
    await new Promise<void>((recorded) => {
      unwritten.push({ result, recorded });
      void write();
    });
  }

  /** Hands a stalled chat's claimed rows back to the queue (written with the failure that stalled it). */
  function releaseChat(chatId: string) {
    const keep: Claimed[] = [];
    for (const row of queue) {
      if (row.chatId === chatId) {
        released.push({ id: row.id, chatId: row.chatId });
        queuedIds.delete(row.id);
      } else keep.push(row);
    }
    queue = keep;
  }

  /** Starts every send the limits allow now; returns how long until the next one may start (Infinity: none waiting). */
  function dispatch(): number {
    let minWait = Infinity;
    if (!queue.length || inFlight.size >= concurrency) return minWait;
    // No new send once this instance may have lost the sender lease: the next holder sends these rows.
    if (options.mayClaim && !options.mayClaim()) return CLAIM_EVERY_MS;
    const blocked = new Set<string>();
    const replyChats = new Set<string>();
    for (const row of queue) if (row.kind === 'reply') replyChats.add(row.chatId);
    const started: Array<{ row: Claimed; bookedAt: number }> = [];
    // Chats a person is talking with first, then the rest; each chat in its own order.
    passes: for (const pass of replyChats.size ? [true, false] : [false]) {
      for (const row of queue) {
        if (inFlight.size + started.length >= concurrency || !running) break;
        if (replyChats.size && replyChats.has(row.chatId) !== pass) continue;
        if (busyChats.has(row.chatId) || blocked.has(row.chatId) || stalledChats.has(row.chatId)) continue;
        const bookedAt = now();
        const conversation = row.kind === 'reply' && !((floodedChats.get(row.chatId) ?? 0) > bookedAt);
        const wait = limiter.reserve(row.chatId, target.isGroupChat(row.chatId), bookedAt, conversation);
        if (wait > 0) {
          blocked.add(row.chatId);
          minWait = Math.min(minWait, wait);
          if (limiter.globalWait() > 0) break passes; // the overall limit holds everyone back
          continue;
        }
        blocked.add(row.chatId); // one row per chat per pass: the next waits for this one's answer
        busyChats.add(row.chatId);
        started.push({ row, bookedAt });
      }
    }
    if (!started.length) return minWait;
    const ids = new Set(started.map((s) => s.row.id));
    queue = queue.filter((r) => !ids.has(r.id));
    for (const id of ids) queuedIds.delete(id);
    // What the rows offer is recorded before any of them can reach its chat (one call for them all).
    const ready = options.beforeSend
      ? options.beforeSend(started.map((s) => outgoing(s.row))).catch((error) => logger.warn('before-send hook failed', { error }))
      : Promise.resolve();
    for (const { row, bookedAt } of started) {
      const p: Promise<void> = sendOne(row, bookedAt, ready).finally(() => {
        busyChats.delete(row.chatId);
        inFlight.delete(p);
        nudge();
      });
      inFlight.add(p);
    }
    return minWait;
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        // At once when kicked; else every CLAIM_EVERY_MS while busy, every idlePollMs while idle.
        if (kicked || now() - lastLook >= (queue.length || inFlight.size ? CLAIM_EVERY_MS : idlePollMs)) {
          kicked = false;
          lastLook = now();
          await claim();
        }
        const wait = dispatch();
        if (!queue.length && !inFlight.size && !unwritten.length) {
          // Idle: the queue is looked at again when the pause runs out or a kick says rows were
          // queued; rows handed over (adopt) need no look.
          if (await pause(idlePollMs)) lastLook = 0;
          continue;
        }
        await pause(Math.min(Number.isFinite(wait) ? wait : CLAIM_EVERY_MS, CLAIM_EVERY_MS));
      } catch (error) {
        logger.error(`${target.name} delivery loop failed; retrying`, { error });
        await pause(1000);
      }
    }
    // Stopping: let the sends in flight finish and be recorded, then hand the rest back.
    await Promise.allSettled([...inFlight]);
    await write();
    if (queue.length) {
      const ids = queue.map((r) => r.id);
      queue = [];
      queuedIds.clear();
      await handBack(ids);
    }
  }

  return {
    /** Puts rows left "sending" by a crash back in the queue; returns how many. */
    async recover(): Promise<number> {
      // Called by the new holder of the channel's sender lease: whoever claimed these is gone (or has stopped sending).
      // A prepared statement, not a Prisma query: this runs at start-up (see persistence/lease.ts).
      return sqlRunnerOf(db).run(`UPDATE "Delivery" SET "status" = 'queued', "claimedBy" = NULL WHERE "channel" = ? AND "status" = 'sending'`, target.name);
    },
    async start(): Promise<void> {
      if (running) return;
      running = true;
      loop = run();
    },
    /**
     * The id to store on rows handed to this worker (`adopt`), when it takes them now: running,
     * the channel's sender (lease) and with room. Undefined: queue them, to be claimed.
     */
    claimer(): string | undefined {
      return running && (!options.mayClaim || options.mayClaim()) && queue.length < batchSize ? instanceId : undefined;
    },
    /**
     * Takes committed rows stored "sending" and claimed by this worker (what a claim would have
     * returned), in queue order after what it claimed before. A chat held back meanwhile (a send
     * failed) gets them back in the queue behind its failed row, as a claim's rows would; a worker
     * stopped meanwhile hands them back at once.
     */
    adopt(rows: HandedRow[]): void {
      void exclusive(async () => {
        if (!running) {
          await handBack(rows.map((r) => r.id));
          return;
        }
        for (const r of rows) {
          if (stalledChats.has(r.chatId)) {
            released.push({ id: r.id, chatId: r.chatId });
            continue;
          }
          queuedIds.add(r.id);
          queue.push({ id: r.id, chatId: r.chatId, accountId: r.accountId, kind: r.kind, alertId: null, attempts: 0, payload: JSON.parse(r.payload) as Outbound, traceId: r.traceId });
        }
        // The turn found nothing of the channel queued (else the rows were queued, not handed over):
        // as good as a claim that found nothing more, so no claim needs to follow.
        lastLook = now();
        if (released.length) void write();
      })
        .catch((error) => logger.error(`${target.name} delivery: taking handed-over rows failed; they are sent after a restart`, { error }))
        .finally(nudge);
    },
    /** Wakes the worker now (called after something was queued in this process). */
    kick() {
      kicked = true;
      nudge();
    },
    async stop(): Promise<void> {
      running = false;
      nudge();
      await loop;
    },
    stats: () => ({ ...stats }),
    resetStats() {
      stats = { sent: 0, failed: 0, retried: 0, rateLimited: 0 };
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
