/**
 * Sliding-window send limits: overall per second, per private chat per second, per group
 * chat per minute (Telegram's published limits). `reserve` answers how long to wait
 * before a send to that chat is allowed, and books the slot when the answer is 0.
 */
export interface RateLimits {
  globalPerSecond: number;
  perChatPerSecond: number;
  perGroupPerMinute: number;
}

export function createRateLimiter(limits: RateLimits, now: () => number = Date.now) {
  const global: number[] = [];
  const perChat = new Map<string, number[]>();
  let pausedUntil = 0;

  function waitFor(times: number[], max: number, windowMs: number, t: number): number {
    while (times.length && times[0]! <= t - windowMs) times.shift();
    return times.length < max ? 0 : times[0]! + windowMs - t;
  }

  return {
    /** 0 when a send to `chatId` may go now (and it is booked); otherwise milliseconds to wait. */
    reserve(chatId: string, isGroup: boolean): number {
      const t = now();
      if (pausedUntil > t) return pausedUntil - t;
      const chatTimes = perChat.get(chatId) ?? [];
      const wait = Math.max(
        waitFor(global, limits.globalPerSecond, 1000, t),
        isGroup ? waitFor(chatTimes, limits.perGroupPerMinute, 60_000, t) : waitFor(chatTimes, limits.perChatPerSecond, 1000, t),
      );
      if (wait > 0) return wait;
      global.push(t);
      chatTimes.push(t);
      perChat.set(chatId, chatTimes);
      if (perChat.size > 50_000) prune(t);
      return 0;
    },
    /** Milliseconds until the overall limit (or a pause) lets any send go; books nothing. */
    globalWait(): number {
      const t = now();
      if (pausedUntil > t) return pausedUntil - t;
      return waitFor(global, limits.globalPerSecond, 1000, t);
    },
    /** After a 429 that names no chat: nobody sends until then. */
    pauseUntil(at: number) {
      pausedUntil = Math.max(pausedUntil, at);
    },
  };

  function prune(t: number) {
    for (const [chat, times] of perChat) if (!times.length || times[times.length - 1]! < t - 60_000) perChat.delete(chat);
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
