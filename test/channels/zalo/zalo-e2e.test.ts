/**
 * The real service against the fake Zalo Bot API: the project's Zalo client, long polling
 * or a webhook, the real core and a real SQLite file. Zalo has no buttons, so every choice
 * is a numbered list answered by typing its number; the fake refuses any button field.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeZalo, postToWebhook, type FakeZalo, type FakeZaloCall } from '../../fakes/fake-zalo-server.js';
import { startTestApp, tempDir, type TestApp } from '../../helpers/test-app.js';
import { zaloSettled } from '../../helpers/zalo-user.js';
import { numberedItems } from '../../helpers/labels.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { webhookPoster } from '../../helpers/webhook.js';
import type { Logger } from '../../../src/logger.js';

const SECRET = 'zalo-webhook-secret_0123456789';
const PUBLIC_URL = 'https://bot.example.org';
const ZALO_LIMIT = 2000;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

let fakes: FakeZalo[] = [];
let apps: TestApp[] = [];

afterEach(async () => {
  for (const t of apps) await t.dispose();
  for (const f of fakes) await f.close();
  apps = [];
  fakes = [];
});

async function fakeZalo(): Promise<FakeZalo> {
  const fake = await startFakeZalo();
  fakes.push(fake);
  return fake;
}

async function startApp(fake: FakeZalo, options: { dir?: string; webhook?: boolean; logger?: Logger } = {}) {
  const env: Record<string, string> = { ZALO_BOT_TOKEN: fake.token, ZALO_API_ROOT: fake.apiRoot };
  if (options.webhook) Object.assign(env, { PUBLIC_URL, ZALO_WEBHOOK_SECRET: SECRET });
  const t = await startTestApp({ env, dir: options.dir, appOptions: options.logger ? { logger: options.logger } : {} });
  apps.push(t);
  return t;
}

/**
 * Polling mode: everything pushed has been handled once the queue is empty and the bot is
 * back waiting in getUpdates (the loop only polls again after the replies are sent).
 */
const settled = (fake: FakeZalo) => zaloSettled(fake, 5000);

interface Turn {
  messages: FakeZaloCall[];
  /** Texts of the messages, joined. */
  text: string;
}

const isSendTo = (chatId: string) => (c: FakeZaloCall) => c.method === 'sendMessage' && c.body.chat_id === chatId;

/** A Zalo user in a private chat with the bot. */
function zaloUser(fake: FakeZalo, id: string, name = 'Trần Thị Bình') {
  let seq = 0;
  const messageId = () => `${id}m${++seq}`;
  const message = (extra: Record<string, unknown>, mid = messageId()) => ({
    from: { id, display_name: name, is_bot: false },
    chat: { id, chat_type: 'PRIVATE' },
    message_id: mid,
    date: Date.now(),
    ...extra,
  });

  async function send(update: unknown, times = 1): Promise<Turn> {
    const since = fake.sent.length;
    for (let i = 0; i < times; i++) fake.pushUpdate(update);
    await settled(fake);
    const messages = fake.sent.slice(since).filter(isSendTo(id));
    return { messages, text: messages.map((m) => String(m.body.text)).join('\n---\n') };
  }

  /** The last numbered list this chat was shown. */
  function lastList(): Array<[number, string]> {
    const withList = fake.sent.filter(isSendTo(id)).reverse().find((c) => numberedItems(String(c.body.text)).length > 0);
    if (!withList) throw new Error('the bot has shown no numbered list in this chat');
    return numberedItems(String(withList.body.text));
  }

  const user = {
    id,
    textUpdate: (text: string, mid?: string) => ({ event_name: 'message.text.received', message: message({ text }, mid) }),
    event: (eventName: string, extra: Record<string, unknown> = {}) => ({ event_name: eventName, message: message(extra) }),
    type: (text: string) => send(user.textUpdate(text)),
    /** Types the number the last list gives to the item labelled `label`. */
    choose(label: string) {
      const items = lastList();
      const item = items.find(([, l]) => l.includes(label));
      if (!item) throw new Error(`no item "${label}" among ${items.map(([n, l]) => `${n}. ${l}`).join(' | ')}`);
      return user.type(String(item[0]));
    },
    listLabels: () => lastList().map(([, l]) => l),
    send,
  };
  return user;
}

/** What must hold for everything the bot sent to Zalo: plain text only, within the limit. */
function expectPlainTextWithinLimit(fake: FakeZalo): void {
  const sends = fake.sent.filter((c) => c.method.startsWith('send'));
  for (const call of sends) {
    expect(Object.keys(call.body).sort(), JSON.stringify(call.body).slice(0, 200)).toEqual(
      call.method === 'sendMessage' ? ['chat_id', 'text'] : expect.arrayContaining(['chat_id']),
    );
    expect(String(call.body.text ?? call.body.caption ?? '').length).toBeLessThanOrEqual(ZALO_LIMIT);
  }
}

// ---------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------

describe('Zalo long polling: onboarding end to end', () => {
  it('walks language, privacy and the area tree by typing numbers, in Vietnamese', async () => {
    const fake = await fakeZalo();
    const log = recordingLogger();
    const t = await startApp(fake, { logger: log });
    const binh = zaloUser(fake, 'a1b2c3d4e5f6a7b8c9d0');

    let turn = await binh.type('/start');
    expect(turn.messages).toHaveLength(1);
    expect(turn.text).toBe(
      'Xin chào! Tôi là trợ lý tự động của khu dân cư tự quản, giúp bà con phản ánh sự việc và nhận cảnh báo từ tổ trưởng, công an.\nBạn muốn dùng ngôn ngữ nào?\n\n' +
        'Trả lời bằng cách gõ số (ví dụ: 1):\n1. 🇻🇳 Tiếng Việt\n2. 🇬🇧 English',
    );

    turn = await binh.choose('Tiếng Việt');
    expect(turn.text).toMatch(/hệ thống tự động/);
    expect(turn.text).toMatch(/Cài đặt → Xóa dữ liệu của tôi/);
    expect(turn.text).toMatch(/Trả lời bằng cách gõ số \(ví dụ: 1\):\n1\. ✅ Tôi đồng ý\n2\. Không đồng ý$/);
    turn = await binh.choose('Tôi đồng ý');
    expect(turn.text).toMatch(/Bạn sống ở khu dân cư nào/);
    turn = await binh.choose('Chọn theo tỉnh');
    expect(turn.text).toMatch(/Chọn tỉnh\/thành phố:\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. /);
    turn = await binh.choose('Hà Nội');
    expect(turn.text).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    expect(binh.listLabels()).toContain('⬅️ Quay lại');
    turn = await binh.choose('Giảng Võ');
    expect(turn.text).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\) thuộc Phường Giảng Võ/);
    turn = await binh.choose('Tổ dân phố số 1');
    // Whether the leaders may see her name, asked before she joins: typed numbers, no "bấm".
    expect(turn.text).toMatch(/^Bạn có muốn tổ trưởng, tổ phó Tổ dân phố số 1 thấy tên của bạn không\? \(Nếu không, họ chỉ thấy mã số như #A7K2\.\)\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. 👤 Có, hiện tên tôi\n2\. 🕶 Không, giữ kín$/);
    turn = await binh.choose('Không, giữ kín');
    expect(turn.messages).toHaveLength(2);
    expect(turn.messages[0]!.body.text).toBe('Bạn đã tham gia Tổ dân phố số 1 (Phường Giảng Võ).');
    expect(turn.messages[1]!.body.text).toMatch(/^Bạn muốn làm gì\?\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. /);
    expect(binh.listLabels()).toEqual(expect.arrayContaining(['🌐 Ngôn ngữ / Language', '❓ Hướng dẫn', '👥 Khu dân cư của tôi']));

    // Every list came with the hint right above it.
    for (const call of fake.sent.filter(isSendTo(binh.id))) {
      const text = String(call.body.text);
      if (numberedItems(text).length) expect(text).toMatch(/Trả lời bằng cách gõ số \(ví dụ: 1\):\n1\. /);
    }

    const person = await t.app.db.person.findFirstOrThrow({ include: { memberships: true, accounts: true } });
    expect(person.onboardedAt).not.toBeNull();
    expect(person.memberships.map((m) => m.state)).toEqual(['active']);
    expect(person.accounts.map((a) => [a.channel, a.externalId, a.displayName])).toEqual([['zalo', binh.id, 'Trần Thị Bình']]);

    expectPlainTextWithinLimit(fake);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('speaks English after choosing it, with the English hint, and the commands work', async () => {
    const fake = await fakeZalo();
    const log = recordingLogger();
    await startApp(fake, { logger: log });
    const mai = zaloUser(fake, 'f0e1d2c3b4a5', 'Mai');

    await mai.type('/start');
    let turn = await mai.choose('English');
    expect(turn.text).toMatch(/automated system/);
    expect(turn.text).toMatch(/Reply by typing a number \(for example: 1\):\n1\. ✅ I agree\n2\. I do not agree$/);
    turn = await mai.choose('I agree');
    expect(turn.text).toMatch(/Which residential group/);
    await mai.choose('Choose by province');
    turn = await mai.choose('Hà Nội');
    expect(turn.text).toMatch(/Choose your commune, ward or special zone in Thành phố Hà Nội/);
    turn = await mai.choose('Ba Đình');
    expect(turn.text).toMatch(/Choose your residential group in Phường Ba Đình/);
    turn = await mai.choose('Tổ dân phố số 3');
    expect(turn.text).toMatch(/Do you want the leaders and deputies of Tổ dân phố số 3 to see your name\?/);
    turn = await mai.type('yes'); // the answer's first word
    expect(turn.text).toMatch(/You have joined Tổ dân phố số 3 \(Phường Ba Đình\)\./);
    expect(turn.text).toMatch(/What would you like to do\?\n\nReply by typing a number \(for example: 1\):\n1\. /);

    turn = await mai.type('/help');
    expect(turn.text).toMatch(/Emergency: call 113 \(police\), 114 \(fire and rescue\), 115 \(ambulance\)/);
    turn = await mai.choose('My groups');
    expect(turn.text).toMatch(/Your groups\. Pick one to see it, or join another:/);
    expect(turn.text).toMatch(/\n1\. Tổ dân phố số 3 \(Phường Ba Đình\)/);
    turn = await mai.type('/cancel');
    expect(turn.text).toMatch(/Cancelled\./);
    turn = await mai.type('/lang');
    expect(turn.text).toMatch(/Chọn ngôn ngữ \/ Choose your language:\n\nReply by typing a number \(for example: 1\):/);
    turn = await mai.choose('Tiếng Việt');
    expect(turn.text).toMatch(/Đã chuyển sang tiếng Việt\./);
    expect(turn.text).toMatch(/Trả lời bằng cách gõ số \(ví dụ: 1\):/);

    expectPlainTextWithinLimit(fake);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('resumes onboarding after a restart, from the stored step', async () => {
    const fake = await fakeZalo();
    const dir = tempDir();
    const first = await startApp(fake, { dir });
    const binh = zaloUser(fake, 'b2c3d4e5f6a7');

    await binh.type('/start');
    await binh.choose('Tiếng Việt');
    await binh.choose('Tôi đồng ý');
    await binh.choose('Chọn theo tỉnh');
    let turn = await binh.choose('Hà Nội');
    expect(turn.text).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    await first.stop();

    await startApp(fake, { dir });
    // The numbered list shown before the restart still answers.
    turn = await binh.choose('Giảng Võ');
    expect(turn.text).toMatch(/Chọn khu dân cư .* thuộc Phường Giảng Võ/);
    turn = await binh.choose('Tổ dân phố số 2');
    expect(turn.text).toMatch(/Tổ dân phố số 2 cần tổ trưởng duyệt/);
    turn = await binh.type('Trần Bình, nhà số 7');
    expect(turn.text).toMatch(/Tổ dân phố số 2 thấy tên của bạn không\?/);
    turn = await binh.choose('Có, hiện tên tôi');
    expect(turn.text).toMatch(/Đã gửi yêu cầu tham gia Tổ dân phố số 2/);

    expectPlainTextWithinLimit(fake);
    expect(fake.refusals).toEqual([]);
  });
});

describe('Zalo long polling: bad input', () => {
  it('answers stickers, unsupported events, unknown commands and very long text clearly, and keeps answering', async () => {
    const fake = await fakeZalo();
    const log = recordingLogger();
    await startApp(fake, { logger: log });
    const binh = zaloUser(fake, 'c3d4e5f6a7b8');
    const menu = /Bạn muốn làm gì\?\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):/;

    // Someone new who just says hello is onboarded first.
    let turn = await binh.type('xin chào');
    expect(turn.text).toMatch(/Xin chào! Tôi là trợ lý tự động/);
    await binh.type('1');
    await binh.type('1');
    turn = await binh.type('3'); // place myself later
    expect(turn.text).toMatch(menu);

    // Outside any flow.
    turn = await binh.send(binh.event('message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    expect(turn.text).toMatch(menu);
    turn = await binh.send(binh.event('message.unsupported.received'));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    turn = await binh.send(binh.event('message.voice.received', { url: 'https://example.org/voice.aac' }));
    expect(turn.text).toMatch(/🎤 Tôi chưa nghe được tin nhắn thoại\. Mời bạn gõ chữ/);
    turn = await binh.send(binh.event('message.location.received', { location: { latitude: 21.03, longitude: 105.85 } }));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    // Nobody to answer and nothing to do: dropped quietly.
    turn = await binh.send({ event_name: 'message.unsupported.received' });
    expect(turn.messages).toEqual([]);
    turn = await binh.send({ nothing: 'here' });
    expect(turn.messages).toEqual([]);

    turn = await binh.type('/nosuchthing');
    expect(turn.text).toMatch(/^Không có lệnh \/nosuchthing\. Gõ \/help để xem các lệnh có thể dùng\./);
    turn = await binh.type('x'.repeat(5000));
    expect(turn.text).toMatch(/Tin nhắn quá dài \(5000 ký tự\)/);
    expect(turn.text).toMatch(menu);
    turn = await binh.type('   ');
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại/);
    turn = await binh.type('42');
    expect(turn.text).toMatch(/Không có mục số 42\. Vui lòng gõ một số từ 1 đến \d+\./);

    // Inside a flow (here the language choice) the step is kept and asked again.
    await binh.type('/lang');
    const pickFromList = /Mời bạn chọn một mục trong danh sách/;
    const languagePrompt = /Chọn ngôn ngữ \/ Choose your language:\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. 🇻🇳 Tiếng Việt/;
    turn = await binh.type('xin chào');
    expect(turn.text).toMatch(pickFromList);
    expect(turn.text).toMatch(languagePrompt);
    // A sticker is not a wrong answer: the person is told it cannot be read, and asked again.
    turn = await binh.send(binh.event('message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    expect(turn.text).toMatch(languagePrompt);
    turn = await binh.type('y'.repeat(5000));
    expect(turn.text).toMatch(pickFromList);
    turn = await binh.type('/nosuchthing');
    expect(turn.text).toMatch(/Không có lệnh \/nosuchthing/);
    expect(turn.text).toMatch(languagePrompt);
    turn = await binh.type('9');
    expect(turn.text).toMatch(/Không có mục số 9/);

    // English too.
    await binh.choose('English');
    await binh.type('/lang');
    turn = await binh.send(binh.event('message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(/I cannot listen to voice messages or see stickers and videos yet/);
    expect(turn.text).toMatch(/Choose your language/);
    turn = await binh.type('/cancel');
    expect(turn.text).toMatch(/Cancelled/);
    turn = await binh.send(binh.event('message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(/I cannot listen to voice messages or see stickers and videos yet/);

    // Still answering.
    turn = await binh.type('/help');
    expect(turn.text).toMatch(/Commands you can use/);

    expect(fake.sent.filter(isSendTo(binh.id)).map((c) => c.body.text).join('\n')).not.toMatch(/Đã có lỗi xảy ra|Something went wrong/);
    expectPlainTextWithinLimit(fake);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('splits text over 2000 characters into pieces Zalo accepts, the numbered list last', async () => {
    const fake = await fakeZalo();
    const t = await startApp(fake);
    const chatId = 'd4e5f6a7b8c9';
    const sentence = 'Thông báo của tổ dân phố về an ninh trật tự khu vực. ';
    const notice = sentence.repeat(90).trim(); // about 4,800 characters

    await t.app.zalo!.send(chatId, {
      text: notice,
      choices: [[{ id: 'ack:yes', label: 'Đã nhận' }], [{ id: 'ack:help', label: 'Cần giúp đỡ' }]],
      hint: 'Gõ số thứ tự để chọn:',
    });

    const pieces = fake.sent.filter(isSendTo(chatId)).map((c) => String(c.body.text));
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(ZALO_LIMIT);
    expect(pieces.at(-1)).toMatch(/Gõ số thứ tự để chọn:\n1\. Đã nhận\n2\. Cần giúp đỡ$/);
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    expect(words(pieces.join(' '))).toEqual(words(`${notice} Gõ số thứ tự để chọn: 1. Đã nhận 2. Cần giúp đỡ`));

    expectPlainTextWithinLimit(fake);
    expect(fake.refusals).toEqual([]);
  });

  it('answers an update delivered twice only once, also after a restart', async () => {
    const fake = await fakeZalo();
    const dir = tempDir();
    const first = await startApp(fake, { dir });
    const binh = zaloUser(fake, 'e5f6a7b8c9d0');

    const start = binh.textUpdate('/start', 'repeated-message-1');
    let turn = await binh.send(start, 2);
    expect(turn.messages).toHaveLength(1);
    expect(turn.text).toMatch(/Bạn muốn dùng ngôn ngữ nào/);

    turn = await binh.send(binh.textUpdate('1', 'repeated-message-2'), 3);
    expect(turn.messages).toHaveLength(1);
    expect(turn.text).toMatch(/hệ thống tự động/);
    await first.stop();

    // The memory of handled updates survives a restart.
    await startApp(fake, { dir });
    turn = await binh.send(start);
    expect(turn.messages).toEqual([]);
    turn = await binh.type('1');
    expect(turn.text).toMatch(/Bạn sống ở khu dân cư nào/);

    expectPlainTextWithinLimit(fake);
    expect(fake.refusals).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Webhook
// ---------------------------------------------------------------------------

describe('Zalo webhook', () => {
  async function startWebhookApp() {
    const fake = await fakeZalo();
    const log = recordingLogger();
    const t = await startApp(fake, { webhook: true, logger: log });
    const url = `${t.baseUrl}/webhooks/zalo`;
    const post = webhookPoster(url, 'X-Bot-Api-Secret-Token', SECRET);
    return { fake, log, t, url, post };
  }

  it('registers the webhook at PUBLIC_URL with the secret and answers a correct update', async () => {
    const { fake, log, t, url } = await startWebhookApp();

    expect(fake.webhookCalls.map((c) => [c.method, c.webhookUrl])).toEqual([['setWebhook', `${PUBLIC_URL}/webhooks/zalo`]]);
    expect(fake.webhookSecret).toBe(SECRET);
    expect(fake.requests.some((r) => r.method === 'getUpdates')).toBe(false);
    expect(t.app.zalo!.mode).toBe('webhook');

    const binh = zaloUser(fake, 'f6a7b8c9d0e1');
    const res = await postToWebhook(url, SECRET, binh.textUpdate('/start'));
    expect(res.status).toBe(200);
    const reply = await fake.waitFor((c) => isSendTo(binh.id)(c) && /Bạn muốn dùng ngôn ngữ nào/.test(String(c.body.text)), 5000);
    expect(reply.body.text).toMatch(/Trả lời bằng cách gõ số \(ví dụ: 1\):\n1\. 🇻🇳 Tiếng Việt\n2\. 🇬🇧 English$/);

    // The envelope form ({ ok, result }) is accepted as well.
    expect((await postToWebhook(url, SECRET, { ok: true, result: binh.textUpdate('2') })).status).toBe(200);
    await fake.waitFor((c) => isSendTo(binh.id)(c) && /automated system/.test(String(c.body.text)), 5000);

    expectPlainTextWithinLimit(fake);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('refuses a missing or wrong secret with 401, malformed bodies with 400, and does not process them', async () => {
    const { fake, log, t, post } = await startWebhookApp();
    const binh = zaloUser(fake, 'a7b8c9d0e1f2');
    const start = binh.textUpdate('/start');

    expect((await post(start, null)).status).toBe(401);
    expect((await post(start, 'wrong-secret-123')).status).toBe(401);
    expect((await post(start, '')).status).toBe(401);
    expect((await post(start, SECRET.toUpperCase())).status).toBe(401);

    expect((await post('{not json')).status).toBe(400);
    expect((await post('')).status).toBe(400);
    expect((await post('null')).status).toBe(400);
    expect((await post([start])).status).toBe(400);
    expect((await post({ message: { text: 'no event name' } })).status).toBe(400);
    expect((await post({ event_name: 42 })).status).toBe(400);

    // A good update afterwards is the first thing this chat gets; then the refused one, sent properly, is answered.
    expect((await post(binh.textUpdate('/help'))).status).toBe(200);
    await fake.waitFor((c) => isSendTo(binh.id)(c) && /Bạn muốn làm gì\?/.test(String(c.body.text)), 5000);
    expect(fake.sent.filter(isSendTo(binh.id)).map((c) => String(c.body.text)).join('\n')).not.toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    expect((await post(start)).status).toBe(200);
    await fake.waitFor((c) => isSendTo(binh.id)(c) && /Bạn muốn dùng ngôn ngữ nào/.test(String(c.body.text)), 5000);
    expect(await t.app.db.person.count()).toBe(1);

    expectPlainTextWithinLimit(fake);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('answers an update delivered twice only once', async () => {
    const { fake, log, post } = await startWebhookApp();
    const binh = zaloUser(fake, 'b8c9d0e1f2a3');
    const start = binh.textUpdate('/start');

    expect((await post(start)).status).toBe(200);
    await fake.waitFor((c) => isSendTo(binh.id)(c) && /Bạn muốn dùng ngôn ngữ nào/.test(String(c.body.text)), 5000);
    const again = await Promise.all([post(start), post(start)]);
    expect(again.map((r) => r.status)).toEqual([200, 200]);

    // Barrier: a later message of the same person is handled after the repeats.
    expect((await post(binh.textUpdate('/nosuchthing'))).status).toBe(200);
    await fake.waitFor((c) => isSendTo(binh.id)(c) && /Không có lệnh/.test(String(c.body.text)), 5000);
    const texts = fake.sent.filter(isSendTo(binh.id)).map((c) => String(c.body.text));
    expect(texts.filter((x) => /Bạn muốn dùng ngôn ngữ nào/.test(x))).toHaveLength(1);

    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });
});
