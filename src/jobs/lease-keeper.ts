/**
 * Runs background work only while this instance holds its lease (persistence/lease.ts), so that
 * several instances on one database send each bot's messages once, under one rate limiter, and
 * fire each timer once. Every `everyMs` the keeper renews the leases it holds and tries to take
 * the others; when it takes one it starts that work, when it loses one (not renewed in time, or
 * taken over) it stops it. A dead holder's lease expires after `ttlMs`, so another instance
 * takes over within ttlMs + everyMs (6 s + 2 s by default).
 */
import type { Logger } from '../logger.js';
import type { Leases } from '../persistence/lease.js';

export interface LeasedWork {
  /** The lease's name: "sender:telegram:<bot id>", "timers", ... */
  name: string;
  /** Called once the lease is taken (before that, nothing of this work runs here). */
  start(): Promise<void>;
  /** Called when the lease is lost or the keeper stops; must end the work before it resolves. */
  stop(): Promise<void>;
}

export const LEASE_TTL_MS = 6_000;
export const LEASE_EVERY_MS = 2_000;

export function startLeaseKeeper(deps: { leases: Leases; work: LeasedWork[]; logger: Logger; ttlMs?: number; everyMs?: number; now?: () => number }) {
  const { leases, logger } = deps;
  const ttlMs = deps.ttlMs ?? LEASE_TTL_MS;
  const everyMs = deps.everyMs ?? LEASE_EVERY_MS;
  const now = deps.now ?? Date.now;
  /** Per held lease: until when this instance may act on it (its last renewal + ttl, less a margin). */
  const heldUntil = new Map<string, number>();
  let stopped = false;
  let ticking: Promise<void> | undefined;

  async function drop(w: LeasedWork, why: string) {
    heldUntil.delete(w.name);
    logger.warn(`lease ${w.name}: ${why}; stopping that work here`);
    await w.stop().catch((error) => logger.error(`stopping ${w.name} failed`, { error }));
  }

  async function tickOnce(): Promise<void> {
    for (const w of deps.work) {
      if (stopped) return;
      const asked = now();
      let held: boolean;
      try {
        held = await leases.acquire(w.name, ttlMs);
      } catch (error) {
        // The database did not answer: keep acting only while the last renewal surely holds.
        logger.warn(`lease ${w.name}: renewal failed`, { error });
        const until = heldUntil.get(w.name);
        if (until !== undefined && now() >= until) await drop(w, 'not renewed in time');
        continue;
      }
      if (stopped) {
        // Stopping meanwhile: a lease just taken is given back at once (one already held, by stop()).
        if (held && !heldUntil.has(w.name)) await leases.release(w.name).catch(() => undefined);
        return;
      }
      if (held) {
        const first = !heldUntil.has(w.name);
        // Counted from before the request: the database may have written it later, never earlier.
        heldUntil.set(w.name, asked + ttlMs - everyMs / 2);
        if (first) {
          logger.info(`lease ${w.name}: taken by ${leases.holder}`);
          try {
            await w.start();
          } catch (error) {
            logger.error(`starting ${w.name} failed; giving the lease back`, { error });
            heldUntil.delete(w.name);
            await w.stop().catch(() => undefined);
            await leases.release(w.name).catch(() => undefined);
          }
        }
      } else if (heldUntil.has(w.name)) {
        await drop(w, 'taken over by another instance');
      }
    }
  }

  function tick(): Promise<void> {
    if (!ticking) ticking = tickOnce().finally(() => (ticking = undefined));
    return ticking;
  }

  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();

  return {
    /** One round now (start-up runs one before answering, so a lone instance starts its work at once). */
    tick,
    /** Whether this instance holds the lease right now (its last renewal still surely holds). */
    holds: (name: string) => (heldUntil.get(name) ?? 0) > now(),
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await ticking;
      for (const w of deps.work) {
        if (!heldUntil.has(w.name)) continue;
        heldUntil.delete(w.name);
        await w.stop().catch((error) => logger.error(`stopping ${w.name} failed`, { error }));
        await leases.release(w.name).catch((error) => logger.warn(`releasing lease ${w.name} failed`, { error }));
      }
    },
  };
}
