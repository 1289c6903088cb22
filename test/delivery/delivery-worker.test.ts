/**
 * The outbox worker against the fake Telegram Bot API and a real database: rows are
 * inserted straight into the outbox (as the services do inside their transactions) and
 * the real Telegram worker of the running service sends them.
 *
 * Plus unit tests of the rate limiter with an injected clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeTelegram, type FakeTelegram, type RateLimitOptions, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createRateLimiter } from '../../src/delivery/rate-limiter.js';
import type { Delivery } from '../../src/generated/prisma/client.js';

const TOKEN = '123456789:AAE-fake_telegram_token_for_delivery';

let fakes: FakeTelegram[] = [];
let apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.reverse()) await t.dispose(); // the newest first: restarted apps share a folder
  for (const f of fakes) await f.close();
  apps = [];
  fakes = [];
});

interface Harness {
  t: TestApp;
  fake: FakeTelegram;
  /** Moves the worker's clock (and only the worker's) forward. */
  skip(ms: number): void;
}

async function harness(options: { rateLimit?: RateLimitOptions; env?: Record<string, string>; fake?: FakeTelegram; dir?: string } = {}): Promise<Harness> {
  const fake = options.fake ?? (await startFakeTelegram({ token: TOKEN, rateLimit: options.rateLimit }));
  if (!options.fake) fakes.push(fake);
  let offset = 0;
  const t = await startTestApp({
    dir: options.dir,
    env: {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      // Fast per chat unless a test says otherwise; the limiter itself is unit-tested below.
      TELEGRAM_RATE_PER_CHAT: '50',
      ...options.env,
    },
    appOptions: { delivery: { idlePollMs: 20, now: () => Date.now() + offset } },
  });
  apps.push(t);
  return { t, fake, skip: (ms) => void (offset += ms) };
}

/** A person with one Telegram account whose private chat is `chatId`. */
async function telegramAccount(t: TestApp, chatId: number) {
  const person = await t.app.db.person.create({
    data: { displayName: `User ${chatId}`, accounts: { create: { channel: 'telegram', externalId: String(chatId), chatId: String(chatId) } } },
    include: { accounts: true },
  });
  return { personId: person.id, accountId: person.accounts[0]!.id, chatId: String(chatId) };
}

// Rows get strictly increasing, already-due creation times, so the queue order is known.
let seq = Date.now() - 10 * 60_000;

type Account = Awaited<ReturnType<typeof telegramAccount>>;

/** Inserts one queued row per text (in order) and wakes the worker. */
async function enqueue(t: TestApp, rows: Array<{ to: Account; text: string; status?: string; dueInMs?: number; kind?: string }>) {
  await t.app.db.delivery.createMany({
    data: rows.map((r) => {
      const at = new Date(seq++);
      return {
        kind: r.kind ?? 'system',
        channel: 'telegram',
        accountId: r.to.accountId,
        chatId: r.to.chatId,
        payload: JSON.stringify({ text: r.text }),
        status: r.status ?? 'queued',
        createdAt: at,
        nextAttemptAt: r.dueInMs ? new Date(Date.now() + r.dueInMs) : at,
      };
    }),
  });
  t.app.workers.get('telegram')!.kick();
}

const textOf = (row: Delivery) => (JSON.parse(row.payload) as { text: string }).text;

async function rowsByText(t: TestApp): Promise<Map<string, Delivery>> {
  const rows = await t.app.db.delivery.findMany({ where: { channel: 'telegram' } });
  return new Map(rows.map((r) => [textOf(r), r]));
}

/** Waits until every row has left the queue (sent or failed). */
async function settled(t: TestApp, timeout = 10_000): Promise<Map<string, Delivery>> {
  await vi.waitFor(
    async () => {
      const open = await t.app.db.delivery.count({ where: { channel: 'telegram', status: { in: ['queued', 'sending'] }, nextAttemptAt: { lte: new Date(Date.now() + 60_000) } } });
      if (open) throw new Error(`${open} row(s) still queued or sending`);
    },
    { timeout, interval: 20 },
  );
  return rowsByText(t);
}

const sendsTo = (fake: FakeTelegram, chatId: string): RecordedCall[] => fake.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === chatId);

describe('delivery worker (Telegram, real database)', () => {
  it('sends every row once, in queue order per chat, and records the message id and time', async () => {
    const { t, fake } = await harness();
    const a = await telegramAccount(t, 5001);
    const b = await telegramAccount(t, 5002);
    const before = Date.now();
    const rows = [];
    for (let i = 1; i <= 6; i++) rows.push({ to: a, text: `A${i}` }, { to: b, text: `B${i}` });
    await enqueue(t, rows);

    const done = await settled(t);
    expect(fake.messagesTo(a.chatId)).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6']);
    expect(fake.messagesTo(b.chatId)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B6']);
    for (const call of [...sendsTo(fake, a.chatId), ...sendsTo(fake, b.chatId)]) {
      const row = done.get(String(call.body.text))!;
      expect(row.status).toBe('sent');
      expect(row.platformMessageId).toBe(String((call.result as { message_id: number }).message_id));
      expect(row.sentAt!.getTime()).toBeGreaterThanOrEqual(before);
      expect(row.sentAt!.getTime()).toBeLessThanOrEqual(Date.now());
      expect(row.attempts).toBe(0);
      expect(row.error).toBeNull();
    }
    expect(fake.refusals).toEqual([]);
  });

  it('honours a 429 retry_after: the channel pauses, the row is retried and sent, nothing is lost', async () => {
    const { t, fake } = await harness();
    const a = await telegramAccount(t, 6001);
    const b = await telegramAccount(t, 6002);
    fake.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    const kicked = Date.now();
    await enqueue(t, [{ to: a, text: 'first' }]);
    // Once the 429 is recorded on the row, a message to another chat is queued: the pause holds it too.
    await vi.waitFor(
      async () => {
        // (or already sent, on a machine slow enough to miss the pause: the checks below still hold)
        const row = (await rowsByText(t)).get('first')!;
        expect(row.attempts).toBe(1);
        expect(['queued', 'sent']).toContain(row.status);
      },
      { timeout: 5000, interval: 10 },
    );
    await enqueue(t, [{ to: b, text: 'other chat' }]);

    const done = await settled(t);
    expect(done.get('first')!).toMatchObject({ status: 'sent', attempts: 1, error: null });
    expect(done.get('other chat')!.status).toBe('sent');
    expect(fake.failures.filter((f) => f.error_code === 429)).toHaveLength(1);
    // Nothing at all went out during the pause: every accepted send is at least retry_after after the 429.
    const accepted = fake.calls.filter((c) => c.method === 'sendMessage');
    expect(accepted.map((c) => c.body.text).sort()).toEqual(['first', 'other chat']);
    for (const call of accepted) expect(call.at - kicked).toBeGreaterThanOrEqual(1000);
    expect(t.app.workers.get('telegram')!.stats()).toMatchObject({ rateLimited: 1, sent: 2 });
  });

  // A row answered 429 waits for its retry; the chat's later rows wait behind it, so the chat never reads m2, m3, m1.
  it('keeps the order of one chat when a message in the middle of it is answered 429', async () => {
    const { t, fake } = await harness();
    const a = await telegramAccount(t, 6101);
    fake.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    await enqueue(t, [{ to: a, text: 'm1' }, { to: a, text: 'm2' }, { to: a, text: 'm3' }]);
    const done = await settled(t);
    expect([...done.values()].map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(fake.messagesTo(a.chatId)).toEqual(['m1', 'm2', 'm3']);
  });

  it('loses nothing when Telegram itself rate-limits a chat (real 429 answers from its flood control)', async () => {
    // The worker is told 50/s per chat; the fake allows 1/s and answers 429 retry_after 1.
    const { t, fake } = await harness({ rateLimit: { perChatPerSecond: 1 } });
    const a = await telegramAccount(t, 6201);
    await enqueue(t, [{ to: a, text: 'r1' }, { to: a, text: 'r2' }, { to: a, text: 'r3' }]);
    const done = await settled(t, 20_000);
    expect([...done.values()].every((r) => r.status === 'sent')).toBe(true);
    expect(fake.tooManyRequests).toBeGreaterThan(0);
    expect([...fake.messagesTo(a.chatId)].sort()).toEqual(['r1', 'r2', 'r3']);
    expect(fake.messagesTo(a.chatId)).toHaveLength(3); // each exactly once
  });

  // Direct replies are not held to the chat's rate (a conversation is not slowed to 1/s), so Telegram's
  // flood control answers 429: each is honoured and the chat still reads its replies in order.
  it('direct replies queued turn after turn under Telegram\'s flood control arrive once each, in order', async () => {
    const { t, fake } = await harness({ rateLimit: { perChatPerSecond: 1 }, env: { TELEGRAM_RATE_PER_CHAT: '1' } });
    const a = await telegramAccount(t, 6301);
    const texts: string[] = [];
    for (let turn = 1; turn <= 4; turn++) {
      const rows = [{ to: a, text: `q${turn}`, kind: 'reply' }, { to: a, text: `menu${turn}`, kind: 'reply' }];
      texts.push(...rows.map((r) => r.text));
      await enqueue(t, rows);
      await new Promise((r) => setTimeout(r, 150));
    }
    const done = await settled(t, 30_000);
    expect([...done.values()].every((r) => r.status === 'sent')).toBe(true);
    expect(fake.tooManyRequests).toBeGreaterThan(0);
    expect(fake.messagesTo(a.chatId)).toEqual(texts);
  });

  it('retries a 500 with backoff and sends it', async () => {
    const h = await harness();
    const { t, fake } = h;
    const a = await telegramAccount(t, 7001);
    fake.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' });
    await enqueue(t, [{ to: a, text: 'after a server error' }]);

    // The failure is recorded on the row, which waits for its backoff (2 s); the worker's clock skips it.
    await vi.waitFor(async () => expect((await rowsByText(t)).get('after a server error')!.attempts).toBe(1), { timeout: 5000, interval: 20 });
    h.skip(5 * 60_000);
    t.app.workers.get('telegram')!.kick();

    const done = await settled(t);
    const row = done.get('after a server error')!;
    expect(row).toMatchObject({ status: 'sent', attempts: 1, error: null });
    expect(row.platformMessageId).toMatch(/^\d+$/);
    expect(fake.failures.filter((f) => f.error_code === 500 && String(f.body.chat_id) === a.chatId)).toHaveLength(1);
    expect(fake.messagesTo(a.chatId)).toEqual(['after a server error']);
  });

  it('a 403 "bot was blocked" fails the row, marks the account unreachable and fails its other queued rows', async () => {
    const { t, fake } = await harness();
    const blocked = await telegramAccount(t, 8001);
    const fine = await telegramAccount(t, 8002);
    fake.blockChat(blocked.chatId);
    await enqueue(t, [
      { to: blocked, text: 'to blocked now' },
      { to: blocked, text: 'to blocked later 1', dueInMs: 3_600_000 },
      { to: blocked, text: 'to blocked later 2', dueInMs: 3_600_000 },
      { to: fine, text: 'to fine' },
    ]);

    await vi.waitFor(
      async () => {
        const rows = await rowsByText(t);
        expect(rows.get('to blocked now')!.status).toBe('failed');
        expect(rows.get('to fine')!.status).toBe('sent');
      },
      { timeout: 5000, interval: 20 },
    );
    const rows = await rowsByText(t);
    expect(rows.get('to blocked now')!.error).toMatch(/403.*bot was blocked by the user/);
    for (const later of ['to blocked later 1', 'to blocked later 2']) {
      expect(rows.get(later)!.status).toBe('failed');
      expect(rows.get(later)!.error).toMatch(/account unreachable/);
    }
    const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { id: blocked.accountId } });
    expect(account.unreachableAt).not.toBeNull();
    expect(account.unreachableReason).toMatch(/403/);
    expect((await t.app.db.channelAccount.findUniqueOrThrow({ where: { id: fine.accountId } })).unreachableAt).toBeNull();
    // Telegram was asked once, and the outbox no longer addresses this account.
    expect(fake.failures.filter((f) => f.kind === 'blocked')).toHaveLength(1);
    expect(await t.app.services.outbox.recipients(t.app.db, [blocked.personId])).toEqual([]);
    expect(await t.app.services.outbox.recipients(t.app.db, [fine.personId])).toHaveLength(1);
  });

  it('recover() puts rows left "sending" by a crash back in the queue, and each is sent once', async () => {
    const { t, fake } = await harness();
    const a = await telegramAccount(t, 9001);
    await enqueue(t, [
      { to: a, text: 'crash 1', status: 'sending' },
      { to: a, text: 'crash 2', status: 'sending' },
    ]);
    // Left alone, the worker never picks "sending" rows (they belong to a sender).
    expect(await t.app.db.delivery.count({ where: { status: 'sending' } })).toBe(2);

    expect(await t.app.workers.get('telegram')!.recover()).toBe(2);
    t.app.workers.get('telegram')!.kick();
    const done = await settled(t);
    expect(done.get('crash 1')!.status).toBe('sent');
    expect(done.get('crash 2')!.status).toBe('sent');
    expect(fake.messagesTo(a.chatId)).toEqual(['crash 1', 'crash 2']);
    expect(await t.app.workers.get('telegram')!.recover()).toBe(0);
  });

  it('after a restart the rows a dead process left "sending" are sent once by the new process', async () => {
    const first = await harness();
    const a = await telegramAccount(first.t, 9101);
    await enqueue(first.t, [
      { to: a, text: 'was in flight 1', status: 'sending' },
      { to: a, text: 'was in flight 2', status: 'sending' },
      { to: a, text: 'still queued', dueInMs: 0 },
    ]);
    await vi.waitFor(async () => expect((await rowsByText(first.t)).get('still queued')!.status).toBe('sent'), { timeout: 5000, interval: 20 });
    await first.t.stop();

    const second = await harness({ fake: first.fake, dir: first.t.dir });
    const done = await settled(second.t);
    expect([...done.values()].map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(first.fake.messagesTo(a.chatId)).toEqual(['still queued', 'was in flight 1', 'was in flight 2']);
  });
});

describe('rate limiter (injected clock)', () => {
  function clock(start = 1_000_000) {
    let now = start;
    return { now: () => now, advance: (ms: number) => void (now += ms) };
  }
  const wide = { globalPerSecond: 1000, perChatPerSecond: 1000, perGroupPerMinute: 1000 };

  it('holds the overall rate per second across chats', () => {
    const c = clock();
    const limiter = createRateLimiter({ ...wide, globalPerSecond: 3 }, c.now);
    expect(limiter.reserve('1', false)).toBe(0);
    c.advance(100);
    expect(limiter.reserve('2', false)).toBe(0);
    expect(limiter.reserve('3', false)).toBe(0);
    expect(limiter.reserve('4', false)).toBe(900); // the first slot frees 1000 ms after it was booked
    expect(limiter.globalWait()).toBe(900);
    c.advance(899);
    expect(limiter.reserve('4', false)).toBe(1);
    c.advance(1);
    expect(limiter.reserve('4', false)).toBe(0);
    expect(limiter.reserve('5', false)).toBe(100); // the two at +100 still count
  });

  it('holds each private chat to its rate per second, independently of other chats', () => {
    const c = clock();
    const limiter = createRateLimiter({ ...wide, perChatPerSecond: 1 }, c.now);
    expect(limiter.reserve('10', false)).toBe(0);
    expect(limiter.reserve('10', false)).toBe(1000);
    expect(limiter.reserve('11', false)).toBe(0);
    c.advance(400);
    expect(limiter.reserve('10', false)).toBe(600);
    c.advance(600);
    expect(limiter.reserve('10', false)).toBe(0);
  });

  it('holds each group chat to its rate per minute, not per second', () => {
    const c = clock();
    const limiter = createRateLimiter({ ...wide, perChatPerSecond: 1, perGroupPerMinute: 2 }, c.now);
    expect(limiter.reserve('-100', true)).toBe(0);
    expect(limiter.reserve('-100', true)).toBe(0); // the per-second limit of private chats does not apply
    expect(limiter.reserve('-100', true)).toBe(60_000);
    expect(limiter.reserve('-200', true)).toBe(0); // another group
    c.advance(30_000);
    expect(limiter.reserve('-100', true)).toBe(30_000);
    c.advance(30_000);
    expect(limiter.reserve('-100', true)).toBe(0);
  });

  it('books nothing when it answers "wait"', () => {
    const c = clock();
    const limiter = createRateLimiter({ ...wide, globalPerSecond: 2, perChatPerSecond: 1 }, c.now);
    expect(limiter.reserve('1', false)).toBe(0);
    for (let i = 0; i < 5; i++) expect(limiter.reserve('1', false)).toBeGreaterThan(0); // refused: not booked
    expect(limiter.reserve('2', false)).toBe(0); // so the second global slot is still free
    expect(limiter.reserve('3', false)).toBeGreaterThan(0);
    expect(limiter.globalWait()).toBe(1000);
    expect(limiter.globalWait()).toBe(1000); // globalWait books nothing either
  });

  it('pauseUntil stops every send until then, and a shorter pause never shortens it', () => {
    const c = clock();
    const limiter = createRateLimiter(wide, c.now);
    limiter.pauseUntil(c.now() + 5000);
    expect(limiter.reserve('1', false)).toBe(5000);
    expect(limiter.reserve('-1', true)).toBe(5000);
    expect(limiter.globalWait()).toBe(5000);
    limiter.pauseUntil(c.now() + 1000);
    c.advance(2000);
    expect(limiter.reserve('1', false)).toBe(3000);
    c.advance(3000);
    expect(limiter.globalWait()).toBe(0);
    expect(limiter.reserve('1', false)).toBe(0);
  });
});
