/**
 * Two instances on one PostgreSQL, in one process: the first holds the Telegram sender lease, the
 * second (no lease) queues a message for a Telegram account. The sender's idle look at the queue
 * is set to a minute here, so the message can only go out at once if the second instance woke the
 * sender (NOTIFY). Runs in the PostgreSQL pass (TEST_DATABASE_URL); SQLite has one instance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startTestApp, TEST_POSTGRES_URL, tempDir, type TestApp } from '../helpers/test-app.js';

const TOKEN = '123456789:AAE-fake_telegram_token_for_wakeups';
const CHAT = 620_000_001;

let apps: TestApp[] = [];
let fake: FakeTelegram | undefined;
afterEach(async () => {
  for (const t of apps) await t.stop(); // both share one schema: stop both before it is dropped
  for (const t of apps) await t.dispose();
  await fake?.close();
  apps = [];
  fake = undefined;
});

describe('several instances on PostgreSQL', () => {
  it.skipIf(!TEST_POSTGRES_URL)('an instance without the sender lease wakes the sender at once when it queues a message', async () => {
    fake = await startFakeTelegram({ token: TOKEN });
    const dir = tempDir();
    const sender = await startTestApp({
      dir,
      env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, INSTANCE_NAME: 'machine-a' },
      appOptions: { delivery: { idlePollMs: 60_000 } },
    });
    apps.push(sender);
    expect(sender.app.heldLeases()).toContain('sender:telegram:123456789');
    const other = await startTestApp({ dir, env: { INSTANCE_NAME: 'machine-b' } });
    apps.push(other);
    expect(other.app.heldLeases()).toEqual([]);

    const person = await other.app.db.person.create({
      data: { displayName: 'Lan', accounts: { create: { channel: 'telegram', externalId: String(CHAT), chatId: String(CHAT) } } },
    });
    // Let the sender settle into its idle wait (a minute) before anything is queued.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const queuedAt = Date.now();
    const outbox = other.app.services.outbox;
    outbox.notify(await outbox.enqueue(other.app.db, 'notice', await outbox.recipients(other.app.db, [person.id]), () => ({ text: 'Họp tổ dân phố tối nay lúc 19 giờ' })));
    await fake.waitForText(CHAT, /Họp tổ dân phố tối nay/, 15_000);
    expect(Date.now() - queuedAt).toBeLessThan(15_000);
    expect(fake.refusals).toEqual([]);
  });
});
