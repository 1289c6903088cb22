/**
 * Replies are never dropped and stay in order (issue 9 item 3, review M7): one Telegram user sends
 * 100 messages in 10 s while the fake answers 429 above 1 message per second per chat, as Telegram's
 * flood control does. Direct replies go through the outbox with the notifications: written with the
 * turn, sent by the delivery worker in order per chat, each 429 honoured (retry_after) and retried
 * until delivered. Every reply queued must reach the chat, once, in the order it was queued.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { repliesSent } from '../helpers/replies-sent.js';

const TOKEN = '123456789:AAE-fake_telegram_token_for_flooding';
const USER = 8_200_001;
/** 100 as in the review; FLOOD_MESSAGES makes a shorter run while working on it. */
const MESSAGES = Number(process.env.FLOOD_MESSAGES ?? 100);

let fake: FakeTelegram | undefined;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

describe('a flooding user under Telegram-like 429s', () => {
  it(
    '100 messages in 10 s: every reply delivered, once, in order',
    async () => {
      fake = await startFakeTelegram({ token: TOKEN, rateLimit: { perChatPerSecond: 1 } });
      t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot } });
      const app = t.app;

      const updates = [];
      for (let i = 1; i <= MESSAGES; i++) {
        updates.push((await fake.pushUpdate(fake.userMessage({ userId: USER, firstName: 'Hùng', languageCode: 'vi', text: `tin nhắn số ${i}` }))).update_id);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Every update handled (confirmed to Telegram by the next getUpdates offset).
      await vi.waitFor(() => expect(fake!.pendingUpdates).toHaveLength(0), { timeout: 60_000, interval: 20 });
      await repliesSent('telegram', 400_000, String(USER));

      const rows = await app.db.delivery.findMany({ where: { kind: 'reply', chatId: String(USER) }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      expect(rows.length).toBeGreaterThan(20);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
      const queued = rows.map((r) => (JSON.parse(r.payload) as { text: string }).text);
      // What the person read: exactly what was queued, in that order, nothing twice, nothing missing.
      if (JSON.stringify(fake.messagesTo(USER)) !== JSON.stringify(queued)) {
        console.log(rows.map((r) => `${r.id} ${r.createdAt.toISOString()} sent ${r.sentAt?.toISOString()} attempts ${r.attempts} ${(JSON.parse(r.payload) as { text: string }).text.slice(0, 20)}`).join('\n'));
      }
      expect(fake.messagesTo(USER)).toEqual(queued);
      const rateLimited = fake.failures.filter((f) => f.kind === 'rate-limit' && String(f.body.chat_id) === String(USER)).length;
      console.log(`[reply-flood] ${MESSAGES} messages in ${MESSAGES / 10} s: ${rows.length} replies queued and delivered in order; ${rateLimited} answers of 429 honoured`);
      expect(fake.refusals).toEqual([]);
    },
    480_000,
  );
});
