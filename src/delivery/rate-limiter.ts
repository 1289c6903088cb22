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
    /** 0 when a send to `chatId` may go now (and it is booked at `t`); otherwise milliseconds to wait. */
    reserve(chatId: string, isGroup: boolean, t: number = now()): number {
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
    /**
     * A send booked at `bookedAt` has ended (answered or failed): its slot now counts from
     * this moment. The platform counts a message when it arrives, which may be well after
     * it was booked (a busy event loop, a slow network); counting from the answer keeps two
     * messages to one chat at least the limit apart as the platform sees them.
     */
    finished(chatId: string, bookedAt: number) {
      const t = now();
      if (t <= bookedAt) return;
      restamp(global, bookedAt, t);
      const chatTimes = perChat.get(chatId);
      if (chatTimes) restamp(chatTimes, bookedAt, t);
    },
    /** After a 429 that names no chat: nobody sends until then. */
    pauseUntil(at: number) {
      pausedUntil = Math.max(pausedUntil, at);
    },
  };

  /** Moves one booking from `from` to `to`, keeping the times sorted. */
  function restamp(times: number[], from: number, to: number) {
    const i = times.lastIndexOf(from);
    if (i < 0) return; // already out of every window
    times.splice(i, 1);
    let j = times.length;
    while (j > 0 && times[j - 1]! > to) j--;
    times.splice(j, 0, to);
  }

  function prune(t: number) {
    for (const [chat, times] of perChat) if (!times.length || times[times.length - 1]! < t - 60_000) perChat.delete(chat);
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
