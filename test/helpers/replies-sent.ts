/**
 * Direct replies to Telegram and Zalo go through the outbox: the update is handled (its offset
 * confirmed, its webhook answered) when the replies are queued, and the delivery worker sends
 * them a moment later. Helpers that read "what the bot answered" wait here until every direct
 * reply queued by the running test apps has been sent (or failed for good).
 */
import type { App } from '../../src/app.js';

/** Apps started by startTestApp and not stopped yet. */
export const liveApps = new Set<App>();

export async function repliesSent(channel: 'telegram' | 'zalo', timeout: number, chatId?: string): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    let waiting = 0;
    for (const app of liveApps) {
      try {
        waiting += await app.db.delivery.count({
          where: { channel, kind: 'reply', status: { in: ['queued', 'sending'] }, ...(chatId ? { chatId } : {}) },
        });
      } catch {
        // stopping meanwhile: nothing more will be sent by it
      }
    }
    if (!waiting) return;
    if (Date.now() > deadline) throw new Error(`${waiting} ${channel} repl${waiting === 1 ? 'y' : 'ies'} still not sent after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
