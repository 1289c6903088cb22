/**
 * Idempotent confirms (issue 9 item 2): a report draft carries a key made when it starts, the
 * Send button carries it, and the case is created under a unique constraint on it. A second
 * confirm (a double tap, the same press at two instances) answers "already sent" with the same
 * reference and files nothing. One instance (SQLite), and two app instances on one PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startTestApp, tempDir, type TestApp } from '../helpers/test-app.js';
import { onboardTelegram } from '../helpers/onboarding.js';
import { repliesSent } from '../helpers/replies-sent.js';
import type { TelegramUser } from '../helpers/telegram-user.js';
import type { Inbound } from '../../src/core/messages.js';
import { rmSync } from 'node:fs';

const TOKEN = '123456789:AAE-fake_telegram_token_for_confirms';
const SERVER = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SENT = /Đã gửi phản ánh\. Mã (?:của bạn|phản ánh): (PA-\w+)/;
const ALREADY = /Phản ánh này đã được gửi rồi, không gửi lại lần nữa\. Mã phản ánh của bạn: (PA-\w+)/;

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function fake(): Promise<FakeTelegram> {
  const tg = await startFakeTelegram({ token: TOKEN });
  cleanups.push(() => tg.close());
  return tg;
}

/** A resident of Tổ dân phố số 1 at the preview of a report; returns the Send button's data. */
async function atPreview(tg: FakeTelegram, userId: number): Promise<{ rep: TelegramUser; send: string }> {
  const rep = await onboardTelegram(tg, userId);
  await rep.command('/report');
  await rep.press('Không');
  await rep.press('Giao thông');
  await rep.type('Đèn tín hiệu ở ngã tư hỏng từ sáng');
  await rep.press('Bỏ qua'); // photo
  await rep.press('Bỏ qua'); // place
  await rep.press('Ẩn danh');
  const send = rep.buttons(/Gửi phản ánh/).find((b) => /Gửi phản ánh/.test(b.text))!;
  expect(send.callback_data).toMatch(/^report:send:[A-Za-z0-9_-]{16}$/);
  return { rep, send: send.callback_data };
}

/** The Send press as the core receives it from Telegram (what the webhook or the poller hands over). */
const press = (userId: number, data: string, updateId: number): Inbound => ({
  channel: 'telegram',
  accountId: String(userId),
  chatId: String(userId),
  chatType: 'private',
  updateId: String(updateId),
  kind: 'choice',
  choice: data,
});

const texts = (replies: Array<{ text?: string }>) => replies.map((r) => r.text ?? '').join('\n');

/** Two instances on one database: the first runs Telegram (and sends every queued reply), the second only answers. */
async function twoInstances(tg: FakeTelegram, databaseUrl: string): Promise<[TestApp, TestApp]> {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = { DATABASE_URL: databaseUrl };
  const first = await startTestApp({ dir, env: { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, ...db } });
  cleanups.push(() => first.stop());
  const second = await startTestApp({ dir, env: { BACKGROUND_JOBS: 'off', ...db } });
  cleanups.push(() => second.stop());
  return [first, second];
}

async function concurrentConfirms(tg: FakeTelegram, apps: [TestApp, TestApp], userId: number) {
  const { send } = await atPreview(tg, userId);
  const since = tg.calls.length;
  // The same press delivered to both instances at once (as two taps: two update ids).
  const [a, b] = await Promise.all([apps[0].app.core.handle(press(userId, send, 9_000_001)), apps[1].app.core.handle(press(userId, send, 9_000_002))]);
  const refs = [texts(a), texts(b)].map((t) => (SENT.exec(t) ?? ALREADY.exec(t))?.[1]);
  expect(refs[0]).toMatch(/^PA-/);
  expect(refs[1]).toBe(refs[0]);
  // Exactly one of them filed it; the other says it was already sent.
  expect([SENT.test(texts(a)), SENT.test(texts(b))].sort()).toEqual([false, true]);
  expect([ALREADY.test(texts(a)), ALREADY.test(texts(b))].sort()).toEqual([false, true]);
  const account = await apps[0].app.db.channelAccount.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(userId) } });
  const cases = await apps[0].app.db.case.findMany({ where: { reporterId: account.personId } });
  expect(cases.map((c) => c.ref)).toEqual([refs[0]]);
  // Both answers reach the person (the first instance's worker sends what either queued).
  await repliesSent('telegram', 15_000, String(userId));
  const seen = tg.messagesTo(userId).slice(tg.calls.slice(0, since).filter((c) => String(c.body.chat_id) === String(userId) && c.method.startsWith('send')).length);
  expect(seen.filter((t) => SENT.test(t))).toHaveLength(1);
  expect(seen.filter((t) => ALREADY.test(t))).toHaveLength(1);

  // The very same update delivered to both (a webhook retried at another instance): handled once, one answer.
  const again = await Promise.all([apps[0].app.core.handle(press(userId, send, 9_000_003)), apps[1].app.core.handle(press(userId, send, 9_000_003))]);
  expect(again.filter((r) => r.length > 0)).toHaveLength(1);
  expect(ALREADY.exec(texts(again.flat()))?.[1]).toBe(refs[0]);
  expect(await apps[0].app.db.case.count({ where: { reporterId: account.personId } })).toBe(1);
}

describe('a report confirmed twice is filed once', () => {
  it('double tap on one instance: one case, the second tap answers "already sent" with the same reference', async () => {
    const tg = await fake();
    const t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot } });
    cleanups.push(() => t.dispose());
    const { rep } = await atPreview(tg, 8_100_001);
    const [first, second] = await Promise.all([rep.press('Gửi phản ánh'), rep.press('Gửi phản ánh')]);
    const all = `${first.text}\n${second.text}`;
    const ref = SENT.exec(all)?.[1];
    expect(ref).toMatch(/^PA-/);
    expect(ALREADY.exec(all)?.[1]).toBe(ref);
    expect(await t.app.db.case.count()).toBe(1);
    // Later, a tap on the old preview still names the same case, and the menu follows.
    const late = await rep.press('Gửi phản ánh');
    expect(ALREADY.exec(late.text)?.[1]).toBe(ref);
    expect(late.text).toMatch(/Bạn muốn làm gì\?/);
    expect(await t.app.db.case.count()).toBe(1);
    expect(tg.refusals).toEqual([]);
  }, 90_000);

  // Two instances on one SQLite file: test/durability/confirm-two-processes.test.ts (two processes; in one
  // process SQLite's synchronous busy wait would block the event loop the other instance needs).

  it('the same confirm at two instances on PostgreSQL: one case, the same reference in both answers', async () => {
    const schema = `bot_confirm_${randomBytes(4).toString('hex')}`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: SERVER });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    const tg = await fake();
    await concurrentConfirms(tg, await twoInstances(tg, `${SERVER}?schema=${schema}`), 8_100_003);
    expect(tg.refusals).toEqual([]);
  }, 120_000);
});
