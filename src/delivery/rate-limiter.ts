/**
 * Sliding-window send limits: overall per second, per private chat per second, per group
 * chat per minute (Telegram's published limits). `reserve` answers how long to wait
 * before a send to that chat is allowed, and books the slot when the answer is 0.
 *
 * A private chat may take a short burst (`perChatBurst` messages at once, as Telegram
 * tolerates), then its rate: at most `perChatBurst` messages in any `perChatBurst /
 * perChatPerSecond` seconds. A conversation's two or three replies go out together.
 */
export interface RateLimits {
  globalPerSecond: number;
  perChatPerSecond: number;
  perGroupPerMinute: number;
  /** Messages a private chat may get at once (default 1: no burst). */
  perChatBurst?: number;
}

export function createRateLimiter(limits: RateLimits, now: () => number = Date.now) {
  const global: number[] = [];
  const perChat = new Map<string, number[]>();
  let pausedUntil = 0;
  const burst = Math.max(1, Math.floor(limits.perChatBurst ?? 1));
  // No burst: `perChatPerSecond` in any second. A burst of B: max(rate, B) in the matching longer window.
  const chatMax = Math.max(limits.perChatPerSecond, burst);
  const chatWindowMs = (chatMax * 1000) / limits.perChatPerSecond;

  function waitFor(times: number[], max: number, windowMs: number, t: number): number {
    while (times.length && times[0]! <= t - windowMs) times.shift();
    return times.length < max ? 0 : times[0]! + windowMs - t;
  }

  return {
    /**
     * 0 when a send to `chatId` may go now (and it is booked at `t`); otherwise milliseconds to wait.
     * `conversation`: a direct reply in a private chat, held only by the overall limit and pauses
     * (a person talking with the bot is not slowed to the chat rate); it still counts for the chat,
     * so a notification right after it waits.
     */
    reserve(chatId: string, isGroup: boolean, t: number = now(), conversation = false): number {
      if (pausedUntil > t) return pausedUntil - t;
      const chatTimes = perChat.get(chatId) ?? [];
      const chatWait = isGroup ? waitFor(chatTimes, limits.perGroupPerMinute, 60_000, t) : waitFor(chatTimes, chatMax, chatWindowMs, t);
      const wait = Math.max(waitFor(global, limits.globalPerSecond, 1000, t), conversation && !isGroup ? 0 : chatWait);
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
