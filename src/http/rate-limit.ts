/**
 * In-memory token buckets: "N per window" per key (an address, a session). Each instance keeps
 * its own counts, so with several instances behind one address the limits add up; that is
 * acceptable for abuse limits (they stop floods, they are not quotas).
 */
import type { IncomingMessage } from 'node:http';

export interface RateLimit {
  /** How many in a burst, and how many per window on average. */
  limit: number;
  windowMs: number;
}

export interface RateLimiter {
  /** Takes one token for `key`; false when the bucket is empty (the caller refuses). */
  take(key: string): boolean;
  /** Milliseconds until `key` has a token again (0 when it has one now). */
  retryAfterMs(key: string): number;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(rule: RateLimit, options: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 50_000;
  const perMs = rule.limit / rule.windowMs;
  const buckets = new Map<string, Bucket>();

  function refill(key: string, at: number): Bucket {
    const bucket = buckets.get(key);
    if (!bucket) return { tokens: rule.limit, at };
    bucket.tokens = Math.min(rule.limit, bucket.tokens + (at - bucket.at) * perMs);
    bucket.at = at;
    return bucket;
  }

  /** Full buckets carry no information: drop them when the map grows (a flood of new keys). */
  function prune(at: number): void {
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + (at - bucket.at) * perMs >= rule.limit) buckets.delete(key);
    }
    // Still too many keys that are all mid-window: forget the oldest tenth (they are refused less,
    // never more), so the next prune is far away.
    const target = Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  }

  return {
    take(key) {
      const at = now();
      const bucket = refill(key, at);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      if (!buckets.has(key)) {
        if (buckets.size >= maxKeys) prune(at);
        buckets.set(key, bucket);
      }
      return true;
    },
    retryAfterMs(key) {
      const bucket = buckets.get(key);
      if (!bucket) return 0;
      const tokens = Math.min(rule.limit, bucket.tokens + (now() - bucket.at) * perMs);
      return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs);
    },
    get size() {
      return buckets.size;
    },
  };
}

/**
 * The address a request came from. Behind a reverse proxy (TRUST_PROXY=on) that is the last
 * X-Forwarded-For entry, the one the proxy itself appended; earlier entries are whatever the
 * client wrote. Without TRUST_PROXY the header is ignored.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    const last = value?.split(',').map((s) => s.trim()).filter(Boolean).at(-1);
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
