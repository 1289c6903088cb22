/**
 * One log id per update, followed through to its deliveries. The wrapper around the core's
 * handler (app.ts) runs each update inside `withTrace`; everything the update does meanwhile
 * (its log lines, the outbox rows it queues) reads the id from here, without passing it down
 * through every function. The outbox stores it on each Delivery row (`traceId`), and the
 * delivery worker, in another tick or another instance, logs the send with the same id.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';

export interface TraceContext {
  /** The log id: short, random, unique enough to grep one update out of a day's logs. */
  traceId: string;
}

const storage = new AsyncLocalStorage<TraceContext>();

export function newTraceId(): string {
  // Random bytes are drawn 4 KB at a time: one draw per update cost as much as a database read.
  if (pooled + 8 > pool.length) {
    pool = randomBytes(4096);
    pooled = 0;
  }
  pooled += 8;
  return pool.toString('hex', pooled - 8, pooled);
}
let pool = Buffer.alloc(0);
let pooled = 0;

/** Runs `fn` with `traceId` (a new one when not given) as the current log id. */
export function withTrace<T>(fn: () => T, traceId: string = newTraceId()): T {
  return storage.run({ traceId }, fn);
}

/** The log id of the update being handled, if any. */
export function currentTraceId(): string | undefined {
  return storage.getStore()?.traceId;
}

/**
 * A logger whose lines carry the current log id (`trace`) when one is set: the service's logger
 * is wrapped once, and every line written while an update is handled names that update.
 */
export function tracingLogger(base: Logger): Logger {
  const withId = (extra?: Record<string, unknown>) => {
    const trace = currentTraceId();
    return trace ? { trace, ...extra } : extra;
  };
  return {
    debug: (msg, extra) => base.debug(msg, withId(extra)),
    info: (msg, extra) => base.info(msg, withId(extra)),
    warn: (msg, extra) => base.warn(msg, withId(extra)),
    error: (msg, extra) => base.error(msg, withId(extra)),
    child: (bindings) => tracingLogger(base.child(bindings)),
  };
}
