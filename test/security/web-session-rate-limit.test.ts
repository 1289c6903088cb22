/** The in-memory token bucket behind the web chat's limits, and the client address it is keyed by. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, createRateLimiter } from '../../src/http/rate-limit.js';

describe('createRateLimiter', () => {
  it('allows a burst of `limit`, then refills evenly over the window, per key', () => {
    let now = 1_000_000;
    const limiter = createRateLimiter({ limit: 3, windowMs: 3000 }, { now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, true, false]);
    expect(limiter.take('b')).toBe(true); // another key has its own bucket
    expect(limiter.retryAfterMs('a')).toBe(1000);
    now += 999;
    expect(limiter.take('a')).toBe(false);
    now += 1;
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    now += 60_000; // a long pause refills to the limit, not beyond
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, true, false]);
  });

  it('keeps memory bounded under a flood of new keys', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 1, windowMs: 1000 }, { now: () => now, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) {
      expect(limiter.take(`k${i}`)).toBe(true);
      now += 1;
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});

describe('clientAddress', () => {
  const req = (remote: string, forwarded?: string) =>
    ({ socket: { remoteAddress: remote }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  it('uses the socket address unless TRUST_PROXY is on', () => {
    expect(clientAddress(req('127.0.0.1', '1.2.3.4'), false)).toBe('127.0.0.1');
  });

  it('behind a proxy, takes the address the proxy appended (the last), not what the client wrote', () => {
    expect(clientAddress(req('127.0.0.1', 'spoofed, 203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientAddress(req('127.0.0.1'), true)).toBe('127.0.0.1');
  });
});
