import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import {
  createZaloClient,
  splitZaloText,
  ZaloApiError,
  ZaloNetworkError,
  type ZaloClient,
} from '../../../src/channels/zalo/zalo-client.js';
import { startFakeZalo, type FakeZalo } from '../../fakes/fake-zalo-server.js';

const TOKEN = '3141592653589793238:Zk9sZWN0LXRoaXMtc2VjcmV0LXBsZWFzZQ';
const CHAT = '6ede9afa66b88fe6d6a9';

let fake: FakeZalo;
let client: ZaloClient;

beforeEach(async () => {
  fake = await startFakeZalo({ token: TOKEN });
  client = createZaloClient({ token: TOKEN, apiRoot: fake.apiRoot, fetchTimeoutMs: 3000 });
});

afterEach(async () => {
  await fake.close();
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('zalo client methods against the fake API', () => {
  it('getMe returns the bot info', async () => {
    const me = await client.getMe();
    expect(me).toEqual({ id: '3141592653589793238', account_name: 'fake_zalo_bot', account_type: 'BASIC', can_join_groups: false });
    expect(fake.refusals).toEqual([]);
  });

  it('sendMessage posts chat_id and text and returns the message id', async () => {
    const result = await client.sendMessage(CHAT, 'Xin chào');
    expect(result.message_id).toMatch(/^\w+$/);
    expect(typeof result.date).toBe('number');
    expect(fake.sent).toEqual([{ method: 'sendMessage', body: { chat_id: CHAT, text: 'Xin chào' }, at: expect.any(Number) }]);
    const second = await client.sendMessage(CHAT, 'lần hai');
    expect(second.message_id).not.toBe(result.message_id);
  });

  it('sendPhoto sends the URL, with a caption only when given', async () => {
    await client.sendPhoto(CHAT, 'https://example.org/a.jpg', 'Ảnh hiện trường');
    await client.sendPhoto(CHAT, 'https://example.org/b.jpg');
    expect(fake.sent.map((c) => c.body)).toEqual([
      { chat_id: CHAT, photo: 'https://example.org/a.jpg', caption: 'Ảnh hiện trường' },
      { chat_id: CHAT, photo: 'https://example.org/b.jpg' },
    ]);
    expect(fake.refusals).toEqual([]);
  });

  it('sendSticker and sendChatAction', async () => {
    expect((await client.sendSticker(CHAT, 'bfe458bf64fa8da4d4eb')).message_id).toBeTruthy();
    await expect(client.sendChatAction(CHAT, 'typing')).resolves.toBeUndefined();
    expect(fake.sent.map((c) => [c.method, c.body])).toEqual([
      ['sendSticker', { chat_id: CHAT, sticker: 'bfe458bf64fa8da4d4eb' }],
      ['sendChatAction', { chat_id: CHAT, action: 'typing' }],
    ]);
  });

  it('setWebhook, getWebhookInfo and deleteWebhook', async () => {
    const set = await client.setWebhook('https://bot.example.org/zalo/webhook', 'a-long-enough-secret');
    expect(set.url).toBe('https://bot.example.org/zalo/webhook');
    expect(fake.webhookUrl).toBe('https://bot.example.org/zalo/webhook');
    expect((await client.getWebhookInfo()).url).toBe('https://bot.example.org/zalo/webhook');
    expect((await client.deleteWebhook()).url).toBe('');
    expect(fake.webhookCalls.map((c) => [c.method, c.webhookUrl])).toEqual([
      ['setWebhook', 'https://bot.example.org/zalo/webhook'],
      ['deleteWebhook', ''],
    ]);
    expect(fake.refusals).toEqual([]);
  });

  it('getUpdates returns ONE parsed update per call', async () => {
    fake.pushUpdate({ event_name: 'message.text.received', message: { message_id: 'm1', date: 1750316131, from: { id: 'u1' }, chat: { id: 'u1', chat_type: 'PRIVATE' }, text: 'một' } });
    fake.pushUpdate({ event_name: 'message.text.received', message: { message_id: 'm2', from: { id: 'u1' }, chat: { id: 'u1' }, text: 'hai' } });
    const first = await client.getUpdates(1);
    expect(first?.message).toMatchObject({ message_id: 'm1', text: 'một', date: 1750316131000 });
    expect((await client.getUpdates(1))?.message?.text).toBe('hai');
  });

  it('getUpdates waits for an update pushed during the long poll', async () => {
    const pending = client.getUpdates(5);
    setTimeout(() => fake.pushUpdate({ event_name: 'message.sticker.received', message: { message_id: 's1', from: { id: 'u1' }, sticker: 'abc' } }), 50);
    expect((await pending)?.event_name).toBe('message.sticker.received');
  });

  it('getUpdates answers undefined on 408 "no update", whether HTTP 408 or 200', async () => {
    expect(await client.getUpdates(0.1)).toBeUndefined();
    expect(fake.requests.at(-1)?.outcome).toBe('no-update');
    fake.failNext('getUpdates', { status: 200, error_code: 408, description: 'Request timeout' });
    expect(await client.getUpdates(0.1)).toBeUndefined();
  });

  it('aborting getUpdates rejects promptly with an aborted ZaloNetworkError', async () => {
    const controller = new AbortController();
    const pending = client.getUpdates(30, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    const err = await caught(pending);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ZaloNetworkError);
    expect((err as ZaloNetworkError).aborted).toBe(true);
  });
});

describe('zalo client errors', () => {
  it('maps a 429 with retry_after', async () => {
    fake.failNext('sendMessage', { status: 429, description: 'Quota exceeded', retry_after: 3 });
    const err = await caught(client.sendMessage(CHAT, 'hi'));
    expect(err).toBeInstanceOf(ZaloApiError);
    expect(err).toMatchObject({ method: 'sendMessage', errorCode: 429, description: 'Quota exceeded', retryAfter: 3 });
  });

  it('maps a 500 and a 200 with ok:false', async () => {
    fake.failNext('getMe', { status: 500, description: 'Internal error' });
    expect(await caught(client.getMe())).toMatchObject({ name: 'ZaloApiError', errorCode: 500, description: 'Internal error' });
    fake.failNext('getMe', { status: 200, error_code: 403, description: 'internal error' });
    const err = await caught(client.getMe());
    expect(err).toMatchObject({ errorCode: 403 });
    expect((err as ZaloApiError).retryAfter).toBeUndefined();
  });

  it('maps a wrong token to 401 without the token in the message', async () => {
    const wrong = createZaloClient({ token: '3141592653589793238:not-the-right-secret', apiRoot: fake.apiRoot });
    const err = await caught(wrong.getMe());
    expect(err).toMatchObject({ errorCode: 401, method: 'getMe' });
    expect(String((err as Error).message)).not.toContain('not-the-right-secret');
    expect(fake.refusals).toMatchObject([{ method: 'getMe', status: 401 }]);
  });

  it('redacts the token when the server echoes the URL', async () => {
    fake.failNext('sendMessage', { status: 404, description: `No route for /bot${TOKEN}/sendMessage` });
    const err = (await caught(client.sendMessage(CHAT, 'hi'))) as ZaloApiError;
    expect(err.description).toBe('No route for /bot<redacted>/sendMessage');
    expect(JSON.stringify({ m: err.message, d: err.description, s: err.stack })).not.toContain(TOKEN);
  });

  it('wraps network failures in ZaloNetworkError without leaking the token', async () => {
    const logged: string[] = [];
    const log = { warn: (m: string, d?: unknown) => logged.push(m + JSON.stringify(d ?? {})) };
    await fake.close();
    const offline = createZaloClient({ token: TOKEN, apiRoot: fake.apiRoot, log });
    const err = await caught(offline.getMe());
    expect(err).toBeInstanceOf(ZaloNetworkError);
    expect((err as ZaloNetworkError).cause).toBeDefined();

    // An invalid root makes fetch put the whole URL (token included) in its message.
    const broken = createZaloClient({ token: TOKEN, apiRoot: 'not a url', log });
    const err2 = (await caught(broken.getMe())) as ZaloNetworkError;
    expect(err2).toBeInstanceOf(ZaloNetworkError);
    expect(err2.message).toContain('<redacted>');
    const everything = JSON.stringify([err2.message, String((err2.cause as Error).message), logged]);
    expect(everything).not.toContain(TOKEN);
    fake = await startFakeZalo({ token: TOKEN }); // for afterEach
  });

  it('times out with timedOut set', async () => {
    const err = (await caught(client.call('getUpdates', { timeout: '2' }, { timeoutMs: 100 }))) as ZaloNetworkError;
    expect(err).toBeInstanceOf(ZaloNetworkError);
    expect(err.timedOut).toBe(true);
    expect(err.aborted).toBe(false);
  });
});

describe('the fake refuses what Zalo refuses', () => {
  it('records buttons, empty or long text, a photo without URL and unknown methods', async () => {
    const attempts: Array<[string, Record<string, unknown>, number]> = [
      ['sendMessage', { chat_id: CHAT, text: 'Chọn', reply_markup: { inline_keyboard: [] } }, 400],
      ['sendMessage', { chat_id: CHAT, text: '' }, 400],
      ['sendMessage', { chat_id: CHAT, text: 'x'.repeat(2001) }, 400],
      ['sendMessage', { text: 'no chat' }, 400],
      ['sendPhoto', { chat_id: CHAT }, 400],
      ['editMessageText', { chat_id: CHAT, text: 'x' }, 404],
    ];
    for (const [method, body, code] of attempts) {
      expect(await caught(client.call(method, body))).toMatchObject({ errorCode: code });
    }
    expect(fake.refusals.map((r) => [r.method, r.status])).toEqual(attempts.map(([m, , c]) => [m, c]));
    expect(fake.sent).toEqual([]);
  });
});

describe('splitZaloText and sendText', () => {
  it('keeps short text whole and sends nothing for blank text', () => {
    expect(splitZaloText('Xin chào')).toEqual(['Xin chào']);
    expect(splitZaloText('  \n ')).toEqual([]);
    expect(splitZaloText('')).toEqual([]);
  });

  it('prefers paragraph, then line, then space boundaries', () => {
    const para = `${'a'.repeat(30)}\n\n${'b'.repeat(30)}`;
    expect(splitZaloText(para, 50)).toEqual(['a'.repeat(30), 'b'.repeat(30)]);
    const lines = `${'a '.repeat(14)}a\n${'b'.repeat(30)}`;
    expect(splitZaloText(lines, 50)).toEqual([`${'a '.repeat(14)}a`, 'b'.repeat(30)]);
    const words = 'lorem ipsum dolor sit amet '.repeat(10).trim();
    for (const piece of splitZaloText(words, 40)) {
      expect(piece.length).toBeLessThanOrEqual(40);
      expect(piece).toBe(piece.trim());
    }
    expect(splitZaloText(words, 40).join(' ')).toBe(words);
  });

  it('hard-cuts a run without spaces but never inside a surrogate pair', () => {
    expect(splitZaloText('x'.repeat(4500)).map((p) => p.length)).toEqual([2000, 2000, 500]);
    const emoji = `${'x'.repeat(9)}😀${'y'.repeat(9)}`; // the emoji spans indexes 9-10
    const pieces = splitZaloText(emoji, 10);
    expect(pieces.join('')).toBe(emoji);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(10);
      expect(p.length).toBeGreaterThan(0);
      expect(p).not.toMatch(/[\uD800-\uDBFF]$/);
    }
  });

  it('sends a 5,000-character message as ordered pieces of at most 2,000', async () => {
    const paragraphs = Array.from({ length: 40 }, (_, i) => `Đoạn ${i + 1}: ${'thông báo của tổ dân phố '.repeat(7).trim()}.`);
    const text = paragraphs.join('\n\n').slice(0, 5000);
    expect(text.length).toBe(5000);
    const ids = await client.sendText(CHAT, text);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ids).size).toBe(ids.length);
    const bodies = fake.sent.map((c) => c.body as { chat_id: string; text: string });
    expect(bodies).toHaveLength(ids.length);
    for (const b of bodies) {
      expect(b.chat_id).toBe(CHAT);
      expect(b.text.length).toBeGreaterThan(0);
      expect(b.text.length).toBeLessThanOrEqual(2000);
    }
    expect(bodies[0]!.text.startsWith('Đoạn 1:')).toBe(true);
    const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
    expect(squash(bodies.map((b) => b.text).join('\n\n'))).toBe(squash(text));
    expect(fake.refusals).toEqual([]);
  });
});
