/**
 * Alert fan-out under the platforms' limits, through the real outbox workers, the real
 * database and the fakes. The fake Telegram answers 429 (with retry_after) whenever its own
 * limits are exceeded: a test fails if any copy is lost, and reports how many 429s it caused.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeTelegram, type FakeTelegram, type RateLimitOptions, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo } from '../fakes/fake-zalo-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { makeLeader, makeOfficer } from '../helpers/roles.js';
import type { AlertDraft } from '../../src/core/services/alert.service.js';

const TOKEN = '123456789:AAE-fake_telegram_token_alert_rates';
const GROUP = 'HN-GV-01';
const HEADLINE = 'Kiểm tra tốc độ gửi';

let apps: TestApp[] = [];
let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const t of apps) await t.dispose();
  for (const close of closers) await close();
  apps = [];
  closers = [];
});

async function telegramHarness(rateLimit: RateLimitOptions | undefined, env: Record<string, string> = {}) {
  const fake = await startFakeTelegram({ token: TOKEN, rateLimit });
  closers.push(() => fake.close());
  const t = await startTestApp({
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, ...env },
    appOptions: { delivery: { idlePollMs: 20 } },
  });
  apps.push(t);
  return { fake, t, app: t.app };
}

async function zaloHarness(env: Record<string, string> = {}) {
  const fake = await startFakeZalo();
  closers.push(() => fake.close());
  const t = await startTestApp({ env: { ZALO_BOT_TOKEN: fake.token, ZALO_API_ROOT: fake.apiRoot, ...env }, appOptions: { delivery: { idlePollMs: 20 } } });
  apps.push(t);
  return { fake, t, app: t.app };
}

type App = TestApp['app'];

/**
 * `count` residents of the group inserted straight in the database (person, account, active
 * membership), in three batched statements. Returns their chat ids.
 */
async function insertResidents(app: App, channel: 'telegram' | 'zalo', count: number, firstId: number): Promise<string[]> {
  const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
  const ids = Array.from({ length: count }, (_, i) => String(firstId + i));
  await app.db.$transaction([
    app.db.person.createMany({ data: ids.map((id) => ({ id: `p-${channel}-${id}`, locale: 'vi', displayName: `Cư dân ${id}`, onboardedAt: new Date() })) }),
    app.db.channelAccount.createMany({ data: ids.map((id) => ({ id: `a-${channel}-${id}`, personId: `p-${channel}-${id}`, channel, externalId: id, chatId: id })) }),
    app.db.membership.createMany({ data: ids.map((id) => ({ groupId: group.id, personId: `p-${channel}-${id}`, role: 'member', state: 'active' })) }),
  ]);
  return ids;
}

/** A ward officer (not a member of the group, so not a recipient) who sends the alerts. */
async function officer(app: App, channel: 'telegram' | 'zalo' | 'web', chatId: string): Promise<string> {
  const person = await app.db.person.create({
    data: { locale: 'vi', displayName: 'Cán bộ', onboardedAt: new Date(), accounts: { create: { channel, externalId: chatId, chatId } } },
  });
  await makeOfficer(app, person.id, 'HN-GV');
  return person.id;
}

async function sendAlert(app: App, senderId: string, headline = HEADLINE) {
  const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
  const draft: AlertDraft = { groupIds: [group.id], category: 'other', severity: 'minor', headline, text: 'Tin thử nghiệm tốc độ gửi.', expiresInMs: 3_600_000, exercise: true };
  return app.services.alerts.send(senderId, draft);
}

/** Waits until no copy of the alert is waiting any more (sent or failed for good). */
async function settled(app: App, alertId: string, timeout = 20_000) {
  await vi.waitFor(
    async () => {
      const waiting = await app.db.delivery.count({ where: { alertId, status: { in: ['queued', 'sending'] } } });
      if (waiting) throw new Error(`${waiting} copies still waiting`);
    },
    { timeout, interval: 100 },
  );
  return app.db.delivery.findMany({ where: { alertId, kind: 'alert' } });
}

const textOf = (c: RecordedCall) => String(c.body.text ?? '');
/** Accepted alert copies per Telegram chat. */
function copiesPerChat(fake: FakeTelegram, headline = HEADLINE): Map<string, number> {
  const per = new Map<string, number>();
  for (const c of fake.calls) {
    if (c.method === 'sendMessage' && textOf(c).includes(headline) && !textOf(c).startsWith('📊')) per.set(String(c.body.chat_id), (per.get(String(c.body.chat_id)) ?? 0) + 1);
  }
  return per;
}

function expectAllSent(rows: Awaited<ReturnType<typeof settled>>, count: number) {
  expect(rows).toHaveLength(count);
  const bad = rows.filter((r) => r.status !== 'sent' || !r.platformMessageId || !(r.sentAt instanceof Date));
  expect(bad.map((r) => `${r.chatId}: ${r.status} ${r.error ?? ''}`)).toEqual([]);
}

describe('alert fan-out under Telegram limits', () => {
  it('loses nothing when the app sends faster than Telegram allows: every 429 is honoured and retried', async () => {
    // The fake's limit is kept low enough that even a busy test machine sends faster than it allows.
    const FAKE_LIMIT = 20;
    const APP_RATE = 100;
    const N = 200;
    const { fake, app } = await telegramHarness({ globalPerSecond: FAKE_LIMIT, perChatPerSecond: 1 }, { TELEGRAM_RATE_GLOBAL: String(APP_RATE) });
    const chats = await insertResidents(app, 'telegram', N, 700_000_000);
    const sender = await officer(app, 'telegram', '699999999');

    const started = Date.now();
    const { alert, recipients } = await sendAlert(app, sender);
    expect(recipients).toBe(N);
    const rows = await settled(app, alert.id);
    const elapsed = Date.now() - started;
    const stats = app.workers.get('telegram')!.stats();
    console.log(
      `[alert-rate-limits] ${N} copies at app rate ${APP_RATE}/s against a Telegram limit of ${FAKE_LIMIT}/s: ` +
        `${fake.tooManyRequests} answers 429 caused (worker saw ${stats.rateLimited}), ${stats.retried} retries ` +
        `(at most ${Math.max(...rows.map((r) => r.attempts))} refused attempts for one copy), all delivered in ${elapsed} ms`,
    );

    // The test set-up does provoke 429s, and each was honoured rather than losing a copy.
    expect(fake.tooManyRequests).toBeGreaterThan(0);
    expect(stats.rateLimited).toBe(fake.tooManyRequests);
    expectAllSent(rows, N);
    const per = copiesPerChat(fake);
    expect(per.size).toBe(N);
    expect([...per.keys()].sort()).toEqual([...chats].sort());
    expect([...per.values()].every((n) => n === 1)).toBe(true); // exactly one copy each
    // The ids recorded are the ones Telegram gave.
    const byChat = new Map(fake.calls.filter((c) => c.method === 'sendMessage' && textOf(c).includes(HEADLINE)).map((c) => [String(c.body.chat_id), String((c.result as { message_id: number }).message_id)]));
    for (const row of rows) expect(row.platformMessageId).toBe(byChat.get(row.chatId));
    // A 429 names its own wait: at least a second passes before the rate limit lets them all through.
    expect(elapsed).toBeGreaterThanOrEqual(((N / FAKE_LIMIT) - 1) * 1000);
    expect(fake.refusals).toEqual([]);
  });

  it('causes no 429 at all when the app rate is within Telegram\'s', async () => {
    const FAKE_LIMIT = 100;
    const APP_RATE = 80;
    const N = 200;
    const { fake, app } = await telegramHarness({ globalPerSecond: FAKE_LIMIT, perChatPerSecond: 1 }, { TELEGRAM_RATE_GLOBAL: String(APP_RATE) });
    await insertResidents(app, 'telegram', N, 710_000_000);
    const sender = await officer(app, 'telegram', '709999999');

    const started = Date.now();
    const { alert } = await sendAlert(app, sender);
    const rows = await settled(app, alert.id);
    const elapsed = Date.now() - started;
    console.log(`[alert-rate-limits] ${N} copies at app rate ${APP_RATE}/s against a Telegram limit of ${FAKE_LIMIT}/s: ${fake.tooManyRequests} answers 429 caused, all delivered in ${elapsed} ms`);

    expect(fake.tooManyRequests).toBe(0);
    expectAllSent(rows, N);
    const per = copiesPerChat(fake);
    expect(per.size).toBe(N);
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    // Never more than the app's rate in any one-second window (a little slack for network timing).
    const times = fake.calls.filter((c) => c.method === 'sendMessage').map((c) => c.at).sort((a, b) => a - b);
    for (let i = APP_RATE; i < times.length; i++) expect(times[i]! - times[i - APP_RATE]!).toBeGreaterThanOrEqual(1000 - 50);
    expect(fake.refusals).toEqual([]);
  });

  it('spaces messages to one chat at least a second apart (case notifications to a leader)', async () => {
    const { fake, app } = await telegramHarness(undefined, { TELEGRAM_RATE_PER_CHAT: '1' });
    const leaderChat = '720000001';
    const leader = await app.db.person.create({
      data: { locale: 'vi', displayName: 'Tổ trưởng', onboardedAt: new Date(), accounts: { create: { channel: 'telegram', externalId: leaderChat, chatId: leaderChat } } },
    });
    await makeLeader(app, leader.id, GROUP);
    const [reporterChat] = await insertResidents(app, 'telegram', 1, 720_000_100);
    const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const refs: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const filed = await app.services.cases.create(`p-telegram-${reporterChat}`, { groupId: group.id, category: 'other', urgent: false, description: `Đèn đường hỏng số ${i}`, anonymous: false });
      refs.push(filed.case.ref);
    }
    for (const ref of refs) await fake.waitForText(leaderChat, ref, 8000);
    const sends = fake.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === leaderChat);
    expect(sends.map((c) => refs.findIndex((ref) => textOf(c).includes(ref)))).toEqual([0, 1, 2]); // in order, once each
    const gaps = sends.slice(1).map((c, i) => c.at - sends[i]!.at);
    console.log(`[alert-rate-limits] gaps between messages to one chat: ${gaps.join(', ')} ms`);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000 - 60);
    await vi.waitFor(async () => expect((await app.db.delivery.findMany({ where: { chatId: leaderChat } })).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']));
  });

  it('a copy answered 429 more often than the retry limit (8 attempts) is still delivered: a 429 never uses up the attempts', async () => {
    const { fake, app } = await telegramHarness(undefined, { TELEGRAM_RATE_PER_CHAT: '100' }); // retries to one chat go at once
    const [chat] = await insertResidents(app, 'telegram', 1, 725_000_000);
    const sender = await officer(app, 'web', 'web-officer-725'); // the status message goes elsewhere
    // retry_after 0 keeps the test fast; each answer is still a 429 to honour.
    for (let i = 0; i < 10; i++) fake.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 0', retry_after: 0 });
    const { alert } = await sendAlert(app, sender);
    const rows = await settled(app, alert.id, 10_000);
    expectAllSent(rows, 1);
    expect(rows[0]!.attempts).toBe(10);
    expect(fake.failures.filter((f) => f.error_code === 429)).toHaveLength(10);
    expect(copiesPerChat(fake).get(chat!)).toBe(1);
  });

  it('a chat that blocked the bot marks that account unreachable; everyone else still gets the alert, and later alerts skip it', async () => {
    const { fake, app } = await telegramHarness(undefined);
    const chats = await insertResidents(app, 'telegram', 20, 730_000_000);
    const blocked = chats[7]!;
    fake.blockChat(blocked);
    const sender = await officer(app, 'telegram', '729999999');

    const { alert } = await sendAlert(app, sender);
    const rows = await settled(app, alert.id);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(19);
    const failed = rows.filter((r) => r.status !== 'sent');
    expect(failed.map((r) => [r.chatId, r.status])).toEqual([[blocked, 'failed']]);
    expect(failed[0]!.error).toMatch(/403.*blocked/);
    const account = await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: blocked } } });
    expect(account.unreachableAt).toBeInstanceOf(Date);
    expect(account.unreachableReason).toMatch(/blocked/);
    const per = copiesPerChat(fake);
    expect(per.size).toBe(19);
    expect(per.has(blocked)).toBe(false);
    await vi.waitFor(async () => expect((await app.services.alerts.counts(alert.id))).toMatchObject({ recipients: 20, sent: 19, failed: 1, queued: 0 }));

    // The next alert is not even queued for the unreachable account.
    const second = await sendAlert(app, sender, 'Cảnh báo thứ hai');
    expect(second.recipients).toBe(19);
    const secondRows = await settled(app, second.alert.id);
    expectAllSent(secondRows, 19);
    expect(secondRows.some((r) => r.chatId === blocked)).toBe(false);
    expect(fake.failures.filter((f) => f.kind === 'blocked')).toHaveLength(1);
  });
});

describe('alert fan-out under Zalo limits', () => {
  it('honours a 429 with its retry_after and still delivers the copy', async () => {
    const { fake, app } = await zaloHarness();
    const [chat] = await insertResidents(app, 'zalo', 1, 740_000_000);
    const sender = await officer(app, 'web', 'web-officer-740'); // the status message goes elsewhere
    fake.failNext('sendMessage', { status: 429, description: 'Too Many Requests', retry_after: 1 });

    const { alert } = await sendAlert(app, sender);
    const rows = await settled(app, alert.id, 10_000);
    expectAllSent(rows, 1);
    expect(rows[0]!.attempts).toBe(1); // one refused attempt, then sent
    const injected = fake.requests.filter((r) => r.method === 'sendMessage' && r.outcome === 'injected');
    expect(injected).toHaveLength(1);
    console.log(`[alert-rate-limits] zalo: ${injected.length} answer 429 injected, honoured`);
    const copy = await fake.waitFor((c) => c.method === 'sendMessage' && c.body.chat_id === chat && String(c.body.text).includes(HEADLINE));
    expect(copy.at - injected[0]!.at).toBeGreaterThanOrEqual(1000 - 60); // waited the retry_after
    expect(fake.sent.filter((c) => c.body.chat_id === chat)).toHaveLength(1);
    expect(String(copy.body.text)).toMatch(/\n1\. ✅ Đã nhận\n2\. 🙆 Tôi an toàn\n3\. 🆘 Cần giúp đỡ$/);
    expect(fake.refusals).toEqual([]);
  });

  it('keeps to the configured ZALO_SEND_RATE', async () => {
    const RATE = 4;
    const { fake, app } = await zaloHarness({ ZALO_SEND_RATE: String(RATE) });
    const chats = await insertResidents(app, 'zalo', 10, 750_000_000);
    const sender = await officer(app, 'web', 'web-officer-750');
    const { alert } = await sendAlert(app, sender);
    const rows = await settled(app, alert.id, 10_000);
    expectAllSent(rows, 10);
    const copies = fake.sent.filter((c) => c.method === 'sendMessage');
    expect(copies.map((c) => c.body.chat_id).sort()).toEqual([...chats].sort());
    const times = copies.map((c) => c.at).sort((a, b) => a - b);
    for (let i = RATE; i < times.length; i++) expect(times[i]! - times[i - RATE]!).toBeGreaterThanOrEqual(1000 - 60);
  });
});
