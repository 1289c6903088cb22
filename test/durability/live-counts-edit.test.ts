/**
 * The sender's live counts when an edit of the status message fails for a passing reason (a
 * Telegram 5xx, a 429, a network error): the change must not count as shown, or after the last
 * answer nothing changes again and the message keeps the stale counts for good. Real service
 * process (webhook mode) on a seeded SQLite file, the leader composing on Telegram against the fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../fakes/fake-telegram-server.js';
import { LEADER_TELEGRAM_ID, removeDir, seedDatabase, sleep, startFake, startService, trackAlert, type ServiceProcess } from '../../bench/fanout-harness.js';
import { composeOnTelegram, countsParser, LIVE_WEBHOOK_SECRET, postUpdate } from '../../bench/live-counts.js';
import { ALERT_FOLLOW_UP_MS } from '../../src/jobs/alert-follow-up.job.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('live counts', () => {
  it('an edit that failed for a passing reason is made again at the next refresh', async () => {
    const seeded = await seedDatabase(3);
    cleanups.push(() => removeDir(seeded.dir));
    const fake = await startFake();
    cleanups.push(() => fake.close());
    const service: ServiceProcess = await startService({ databaseUrl: seeded.databaseUrl, fake, webhookSecret: LIVE_WEBHOOK_SECRET, entry: 'src/main.ts' });
    cleanups.push(() => service.stop());
    const webhook = `${service.baseUrl}/webhooks/telegram`;
    const headline = `Sửa số liệu ${Date.now().toString(36)}`;
    const tracker = trackAlert(fake, seeded.chatIds, headline);
    await composeOnTelegram(fake, webhook, headline);
    await tracker.until(() => tracker.reached === seeded.chatIds.length, 30_000, 'every resident to get the alert');

    const parse = countsParser();
    const statusShows = (c: RecordedCall) =>
      (c.method === 'sendMessage' || c.method === 'editMessageText') && String(c.body.chat_id) === LEADER_TELEGRAM_ID && String(c.body.text ?? '').includes(headline) ? parse(String(c.body.text)) : undefined;
    // Settled: the status shows the fan-out done, and no answer yet.
    await until(() => fake.calls.find((c) => statusShows(c)?.queued === 0) ?? undefined, 20_000, 'the status to show the fan-out done');

    const copy = fake.calls.find((c) => c.method === 'sendMessage' && String(c.body.chat_id) === seeded.chatIds[0] && String(c.body.text).includes(headline))!;
    const safe = (copy.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard.flat().find((b) => b.callback_data.endsWith(':s'))!;
    // The next edit (the one showing this answer) fails as Telegram's 5xx would.
    fake.failNext('editMessageText', { error_code: 500, description: 'Internal Server Error' });
    const from = fake.calls.length;
    await postUpdate(webhook, fake.callbackQuery({ userId: Number(seeded.chatIds[0]), languageCode: 'vi', data: safe.callback_data, messageId: (copy.result as { message_id: number }).message_id }));
    const answeredAt = Date.now();

    // The failed edit, then the next round's: within two refreshes (and the time a round takes).
    const shown = await until(
      () => fake.calls.slice(from).find((c) => c.method === 'editMessageText' && statusShows(c)?.safe === 1) ?? undefined,
      2 * ALERT_FOLLOW_UP_MS + 5_000,
      'an edit showing the answer',
    );
    expect(shown.at - answeredAt).toBeLessThanOrEqual(2 * ALERT_FOLLOW_UP_MS + 5_000);
    expect(service.output()).toMatch(/status message edit failed/);
  }, 120_000);
});
