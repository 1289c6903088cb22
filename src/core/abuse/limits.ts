/**
 * Per-person abuse limits in the core (issue 8 item 6). Every channel goes through them; the
 * web API's per-address limits (new sessions, uploads, requests) sit in front, in src/http.
 *
 * - Messages: at most MESSAGES.max per MESSAGES.windowMs per account (any kind: text, buttons,
 *   photos). The first message over the limit is answered once, politely, in the person's
 *   language; the next ones are dropped unanswered until the window has room again. Counted in
 *   memory, per process: with several instances each one counts its own share, which is
 *   acceptable for a flood guard (the limits that protect handlers are the ones below).
 * - Reports: at most REPORTS.max new cases per person per hour, counted in the database
 *   (Case.createdAt by reporter), so every instance agrees.
 * - "Danger now" reports: at most URGENT_REPORTS.max per person per hour, counted the same
 *   way. Over it the report is refused with the emergency numbers (113 / 114 / 115) and the
 *   references of the urgent reports already received; the draft stays at its preview.
 * - Link-code guesses: 5 wrong codes per account per 10 minutes (account-link.service), and
 *   LINK_GUESSES_GLOBAL wrong codes per 10 minutes over all accounts together, because fresh
 *   web sessions are free (L10).
 * Nothing already accepted is lost: a refused report keeps its draft, a dropped message was
 * never accepted.
 */
import type { Inbound, Outbound } from '../messages.js';

export const MESSAGES = { max: 30, windowMs: 10_000 };
export const REPORTS = { max: 10, windowMs: 60 * 60_000 };
export const URGENT_REPORTS = { max: 3, windowMs: 60 * 60_000 };
export const LINK_GUESSES_PER_ACCOUNT = { max: 5, windowMs: 10 * 60_000 };
export const LINK_GUESSES_GLOBAL = { max: 60, windowMs: 10 * 60_000 };

export type LimitVerdict = 'ok' | 'warn' | 'drop';

/**
 * A sliding-window counter per key, in memory: `hit(key)` says whether one more event fits.
 * Refused events are not counted, so a steady flood still gets `max` events per window
 * through (the limit), and a person who stops is free again after one window.
 */
export function createSlidingLimiter(limit: { max: number; windowMs: number }, now: () => number = Date.now, maxKeys = 100_000) {
  const entries = new Map<string, { times: number[]; warned: boolean }>();
  let calls = 0;

  function sweep(at: number) {
    for (const [key, e] of entries) {
      const last = e.times[e.times.length - 1] ?? 0;
      if (at - last >= limit.windowMs) entries.delete(key);
    }
  }

  return {
    hit(key: string): LimitVerdict {
      const at = now();
      if (++calls % 1000 === 0 || entries.size >= maxKeys) sweep(at);
      let e = entries.get(key);
      if (!e) {
        e = { times: [], warned: false };
        entries.set(key, e);
      }
      while (e.times.length && at - e.times[0]! >= limit.windowMs) e.times.shift();
      if (e.times.length < limit.max) {
        e.times.push(at);
        e.warned = false;
        return 'ok';
      }
      if (e.warned) return 'drop';
      e.warned = true;
      return 'warn';
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * The per-account message limit at the core's entry. `check` is synchronous and touches no
 * database, so a flood costs almost nothing: 'ok' lets the message through, 'warn' answers it
 * with `slowDown` only (once per flood), 'drop' ignores it.
 */
export function createMessageLimit(options: { limit?: { max: number; windowMs: number }; now?: () => number } = {}) {
  const limit = options.limit ?? MESSAGES;
  const limiter = createSlidingLimiter(limit, options.now);
  return {
    check(inbound: Pick<Inbound, 'channel' | 'accountId' | 'chatType'>): LimitVerdict {
      const verdict = limiter.hit(`${inbound.channel}:${inbound.accountId}`);
      // Nothing is ever said in a group chat because of a limit.
      return verdict === 'warn' && inbound.chatType === 'group' ? 'drop' : verdict;
    },
    slowDown(t: (key: string, params?: Record<string, unknown>) => string): Outbound {
      return { text: t('common:slowDown', { seconds: Math.ceil(limit.windowMs / 1000) }) };
    },
  };
}
