/**
 * The real service against the fake Telegram Bot API: grammY long polling or a webhook,
 * the real core and a real SQLite file. A person talks to the bot by commands, typed text
 * and inline-button presses; every request the bot makes is checked by the fake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from '../../fakes/fake-telegram-server.js';
import { startTestApp, tempDir, type TestApp } from '../../helpers/test-app.js';
import { keyboardOf, updateHandled, type Button } from '../../helpers/telegram-user.js';
import { recordingLogger } from '../../helpers/recording-logger.js';
import { webhookPoster } from '../../helpers/webhook.js';
import type { Logger } from '../../../src/logger.js';

const TOKEN = '123456789:AAE-fake_telegram_token_for_e2e_tests';
const SECRET = 'tg-webhook-secret_0123456789';
const PUBLIC_URL = 'https://bot.example.org';

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

let fakes: FakeTelegram[] = [];
let apps: TestApp[] = [];

afterEach(async () => {
  for (const t of apps) await t.dispose();
  for (const f of fakes) await f.close();
  apps = [];
  fakes = [];
});

async function fakeTelegram(): Promise<FakeTelegram> {
  const fake = await startFakeTelegram({ token: TOKEN });
  fakes.push(fake);
  return fake;
}

async function startApp(fake: FakeTelegram, options: { dir?: string; webhook?: boolean; logger?: Logger } = {}) {
  const env: Record<string, string> = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot };
  if (options.webhook) Object.assign(env, { PUBLIC_URL, TELEGRAM_WEBHOOK_SECRET: SECRET });
  const t = await startTestApp({ env, dir: options.dir, appOptions: options.logger ? { logger: options.logger } : {} });
  apps.push(t);
  return t;
}

/** Polling mode: an update is handled (replies sent) once grammY confirms it with the next getUpdates offset. */
const handled = (fake: FakeTelegram, updateId: number) => updateHandled(fake, updateId, 5000);

interface Turn {
  /** The sendMessage calls to this chat caused by the update, in order. */
  messages: RecordedCall[];
  /** Their texts joined, for matching. */
  text: string;
}

const isSendTo = (chatId: number) => (c: RecordedCall) => c.method === 'sendMessage' && String(c.body.chat_id) === String(chatId);

/**
 * A Telegram user in a private chat with the bot (polling mode): each action pushes one
 * update and resolves with what the bot answered to it, once it is completely handled.
 */
function telegramUser(fake: FakeTelegram, userId: number, languageCode = 'vi') {
  const who = { userId, firstName: 'Lan', lastName: 'Nguyễn', languageCode };
  const pressedIds: string[] = [];

  async function send(update: Update): Promise<Turn> {
    const since = fake.calls.length;
    await fake.pushUpdate(update);
    await handled(fake, update.update_id);
    const messages = fake.calls.slice(since).filter(isSendTo(userId));
    return { messages, text: messages.map((m) => String(m.body.text)).join('\n---\n') };
  }

  /** The bot's last message in this chat that carries buttons. */
  function lastKeyboard(): { messageId: number; buttons: Button[] } {
    const call = fake.calls.filter(isSendTo(userId)).reverse().find((c) => keyboardOf(c).length > 0);
    if (!call) throw new Error('the bot has sent no buttons to this chat');
    return { messageId: (call.result as { message_id: number }).message_id, buttons: keyboardOf(call) };
  }

  function button(label: string): { messageId: number; button: Button; index: number; buttons: Button[] } {
    const { messageId, buttons } = lastKeyboard();
    const index = buttons.findIndex((b) => b.text.includes(label));
    if (index < 0) throw new Error(`no button "${label}" among ${buttons.map((b) => b.text).join(' | ')}`);
    return { messageId, button: buttons[index]!, index, buttons };
  }

  const user = {
    userId,
    pressedIds,
    command: (text: string) => send(fake.userCommand({ ...who, text })),
    type: (text: string) => send(fake.userMessage({ ...who, text })),
    /** Taps the button labelled `label` on the bot's latest message with buttons. */
    press(label: string) {
      const { messageId, button: b } = button(label);
      return user.pressData(b.callback_data, messageId);
    },
    /** A callback query with any data (a stale or forged button). */
    pressData(data: string, messageId?: number) {
      const update = fake.callbackQuery({ ...who, data, messageId });
      pressedIds.push(update.callback_query!.id);
      return send(update);
    },
    /** Types the number of the button labelled `label`, as a Zalo user would. */
    typeNumberOf(label: string) {
      return user.type(String(button(label).index + 1));
    },
    buttonLabels: () => lastKeyboard().buttons.map((b) => b.text),
    send,
  };
  return user;
}

const answeredCallbackIds = (fake: FakeTelegram) =>
  fake.calls.filter((c) => c.method === 'answerCallbackQuery').map((c) => String(c.body.callback_query_id));

// ---------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------

describe('Telegram long polling: onboarding end to end', () => {
  it('walks language, privacy and the area tree by pressing buttons, in Vietnamese', async () => {
    const fake = await fakeTelegram();
    const log = recordingLogger();
    const t = await startApp(fake, { logger: log });
    const lan = telegramUser(fake, 5001);

    let turn = await lan.command('/start');
    expect(turn.text).toMatch(/trợ lý tự động/);
    expect(turn.text).toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    expect(lan.buttonLabels()).toEqual(['🇻🇳 Tiếng Việt', '🇬🇧 English']);

    turn = await lan.press('Tiếng Việt');
    expect(turn.text).toMatch(/hệ thống tự động/);
    expect(turn.text).toMatch(/Cài đặt → Xóa dữ liệu của tôi/);
    turn = await lan.press('Tôi đồng ý');
    expect(turn.text).toMatch(/Bạn sống ở khu dân cư nào/);
    turn = await lan.press('Chọn theo tỉnh');
    expect(turn.text).toMatch(/Chọn tỉnh\/thành phố/);
    turn = await lan.press('Hà Nội');
    expect(turn.text).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    turn = await lan.press('Giảng Võ');
    expect(turn.text).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\) thuộc Phường Giảng Võ/);
    turn = await lan.press('Tổ dân phố số 1');
    expect(turn.text).toBe('Bạn có muốn tổ trưởng, tổ phó Tổ dân phố số 1 thấy tên của bạn không? (Nếu không, họ chỉ thấy mã số như #A7K2.)');
    expect(lan.buttonLabels()).toEqual(['👤 Có, hiện tên tôi', '🕶 Không, giữ kín']);
    turn = await lan.press('Không, giữ kín');
    expect(turn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Giảng Võ\)/);
    expect(turn.messages.at(-1)!.body.text).toBe('Bạn muốn làm gì?');
    expect(lan.buttonLabels()).toContain('❓ Hướng dẫn');

    // Every press stopped its button's spinner.
    expect(lan.pressedIds).toHaveLength(7);
    expect(answeredCallbackIds(fake)).toEqual(lan.pressedIds);

    const person = await t.app.db.person.findFirstOrThrow({ include: { memberships: true, accounts: true } });
    expect(person.locale).toBe('vi');
    expect(person.onboardedAt).not.toBeNull();
    expect(person.memberships.map((m) => m.state)).toEqual(['active']);
    expect(person.accounts.map((a) => [a.channel, a.externalId, a.displayName])).toEqual([['telegram', '5001', 'Lan Nguyễn']]);

    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('walks the same onboarding by typing the numbers of the choices', async () => {
    const fake = await fakeTelegram();
    const t = await startApp(fake);
    const lan = telegramUser(fake, 5002);

    await lan.command('/start');
    let turn = await lan.typeNumberOf('Tiếng Việt');
    expect(turn.text).toMatch(/hệ thống tự động/);
    turn = await lan.typeNumberOf('Tôi đồng ý');
    expect(turn.text).toMatch(/Bạn sống ở khu dân cư nào/);
    turn = await lan.typeNumberOf('Chọn theo tỉnh');
    turn = await lan.typeNumberOf('Hà Nội');
    expect(turn.text).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    turn = await lan.typeNumberOf('Giảng Võ');
    turn = await lan.typeNumberOf('Tổ dân phố số 1');
    expect(turn.text).toMatch(/thấy tên của bạn không\?/);
    turn = await lan.typeNumberOf('Có, hiện tên tôi');
    expect(turn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Giảng Võ\)/);
    expect(turn.text).toMatch(/Bạn muốn làm gì\?/);

    expect(answeredCallbackIds(fake)).toEqual([]);
    const person = await t.app.db.person.findFirstOrThrow({ include: { memberships: true } });
    expect(person.memberships).toHaveLength(1);
    expect(fake.refusals).toEqual([]);
  });

  it('speaks English after choosing it, joins by invite code, and /menu /help /cancel /lang work', async () => {
    const fake = await fakeTelegram();
    const log = recordingLogger();
    const t = await startApp(fake, { logger: log });
    const john = telegramUser(fake, 5003, 'en');

    await john.command('/start');
    let turn = await john.press('English');
    expect(turn.text).toMatch(/automated system/);
    turn = await john.press('I agree');
    expect(turn.text).toMatch(/Which residential group/);
    turn = await john.press('invite code');
    expect(turn.text).toMatch(/Please type the invite code/);
    turn = await john.type('zzzz');
    expect(turn.text).toMatch(/"zzzz" is not valid/);
    turn = await john.type('hbd-678');
    expect(turn.text).toMatch(/Do you want the leaders and deputies of Tổ dân phố số 5 to see your name\?/);
    turn = await john.type('No, keep it private'); // the label, typed
    expect(turn.text).toMatch(/You have joined Tổ dân phố số 5 \(Phường Hoàn Kiếm\)/);
    expect(turn.text).toMatch(/What would you like to do\?/);

    turn = await john.command('/menu');
    expect(turn.text).toBe('What would you like to do?');
    expect(john.buttonLabels()).toEqual(expect.arrayContaining(['🌐 Language / Ngôn ngữ', '❓ Help', '👥 My groups']));

    turn = await john.command('/help');
    expect(turn.text).toMatch(/Emergency: call 113 \(police\), 114 \(fire and rescue\), 115 \(ambulance\), 112 \(search and rescue\)/);
    // A menu button runs the same action as its command.
    turn = await john.press('Help');
    expect(turn.text).toMatch(/Commands you can use/);

    turn = await john.command('/cancel');
    expect(turn.text).toMatch(/There is nothing in progress to cancel/);
    await john.command('/join');
    turn = await john.command('/cancel');
    expect(turn.text).toMatch(/Cancelled\. You can start again/);
    // After /cancel the menu is the list on offer, so its numbers work.
    turn = await john.typeNumberOf('Language');
    expect(turn.text).toMatch(/Chọn ngôn ngữ \/ Choose your language/);

    turn = await john.command('/start');
    expect(turn.text).toMatch(/Welcome back!/);

    turn = await john.command('/lang');
    expect(turn.text).toMatch(/Chọn ngôn ngữ \/ Choose your language/);
    turn = await john.press('Tiếng Việt');
    expect(turn.text).toMatch(/Đã chuyển sang tiếng Việt\./);
    expect(turn.text).toMatch(/Bạn muốn làm gì\?/);
    turn = await john.command('/cancel');
    expect(turn.text).toMatch(/Không có việc gì đang làm dở để hủy/);

    expect((await t.app.db.person.findFirstOrThrow()).locale).toBe('vi');
    expect(answeredCallbackIds(fake)).toEqual(john.pressedIds);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('registers the command menu in Vietnamese (default) and English', async () => {
    const fake = await fakeTelegram();
    await startApp(fake);

    const sets = fake.calls.filter((c) => c.method === 'setMyCommands');
    expect(sets).toHaveLength(2);
    const [byDefault, english] = [sets.find((c) => c.body.language_code === undefined), sets.find((c) => c.body.language_code === 'en')];
    expect(byDefault).toBeDefined();
    expect(english).toBeDefined();
    type Command = { command: string; description: string };
    const descriptions = (call: RecordedCall) => Object.fromEntries((call.body.commands as Command[]).map((c) => [c.command, c.description]));

    const vietnamese = descriptions(byDefault!);
    const en = descriptions(english!);
    for (const command of ['start', 'menu', 'help', 'cancel', 'lang']) {
      expect(vietnamese[command], command).toBeTruthy();
      expect(en[command], command).toBeTruthy();
      expect(vietnamese[command], command).not.toBe(en[command]);
    }
    expect(vietnamese).toMatchObject({ start: 'Bắt đầu, chọn khu dân cư', menu: 'Menu chính', help: 'Hướng dẫn', cancel: 'Hủy việc đang làm', lang: 'Đổi ngôn ngữ' });
    expect(en).toMatchObject({ start: 'Start, choose your neighbourhood', menu: 'Main menu', help: 'Help', cancel: 'Cancel what you are doing', lang: 'Change language' });
    expect(fake.refusals).toEqual([]);
  });

  it('resumes onboarding after a restart, from the stored step, by button and by number', async () => {
    const fake = await fakeTelegram();
    const dir = tempDir();
    const first = await startApp(fake, { dir });
    const lan = telegramUser(fake, 5004);

    await lan.command('/start');
    await lan.press('Tiếng Việt');
    await lan.press('Tôi đồng ý');
    await lan.press('Chọn theo tỉnh');
    let turn = await lan.press('Hà Nội');
    expect(turn.text).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    await first.stop();

    const second = await startApp(fake, { dir });
    // The button on the message sent before the restart still answers the stored step.
    turn = await lan.press('Giảng Võ');
    expect(turn.text).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\) thuộc Phường Giảng Võ/);
    await second.stop();

    await startApp(fake, { dir });
    // So does typing a number from the list offered before the restart.
    turn = await lan.typeNumberOf('Tổ dân phố số 1');
    expect(turn.text).toMatch(/thấy tên của bạn không\?/);
    turn = await lan.type('1');
    expect(turn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);

    expect(answeredCallbackIds(fake)).toEqual(lan.pressedIds);
    expect(fake.refusals).toEqual([]);
  });
});

describe('Telegram long polling: bad input', () => {
  it('answers unexpected input inside the onboarding flow clearly and keeps the step', async () => {
    const fake = await fakeTelegram();
    const log = recordingLogger();
    await startApp(fake, { logger: log });
    const lan = telegramUser(fake, 5005);
    const languagePrompt = /Bạn muốn dùng ngôn ngữ nào/;
    const pickFromList = /Mời bạn chọn một mục trong danh sách \(bấm nút hoặc gõ số thứ tự\)/;

    await lan.command('/start');
    let turn = await lan.type('xin chào');
    expect(turn.text).toMatch(pickFromList);
    expect(turn.text).toMatch(languagePrompt);

    turn = await lan.type('7');
    expect(turn.text).toMatch(/Không có mục số 7\. Vui lòng gõ một số từ 1 đến 2/);
    expect(turn.text).toMatch(languagePrompt);

    turn = await lan.command('/nosuchthing');
    expect(turn.text).toMatch(/Không có lệnh \/nosuchthing\. Gõ \/help/);
    expect(turn.text).toMatch(languagePrompt);

    turn = await lan.type('x'.repeat(5000));
    expect(turn.text).toMatch(pickFromList);
    expect(turn.text.length).toBeLessThan(1000);

    // A sticker is not a wrong answer: the person is told it cannot be read, and asked again.
    turn = await lan.send(fake.userSticker({ userId: 5005 }));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    expect(turn.text).toMatch(languagePrompt);

    turn = await lan.send(fake.userLocation({ userId: 5005, latitude: 21.03, longitude: 105.85 }));
    expect(turn.text).toMatch(pickFromList);

    // A forged button that was never offered is not an answer.
    turn = await lan.pressData('group:not-offered');
    expect(turn.text).toMatch(pickFromList);
    expect(turn.text).toMatch(languagePrompt);

    // A stale button: "English" on the language message, pressed after moving on to the notice.
    const languageMessage = fake.calls.filter(isSendTo(5005)).find((c) => keyboardOf(c).some((b) => b.callback_data === 'lang:en'))!;
    turn = await lan.press('Tiếng Việt');
    expect(turn.text).toMatch(/hệ thống tự động/);
    turn = await lan.pressData('lang:en', (languageMessage.result as { message_id: number }).message_id);
    expect(turn.text).toMatch(pickFromList);
    expect(turn.text).toMatch(/hệ thống tự động/);

    turn = await lan.command('/cancel');
    expect(turn.text).toMatch(/Đã hủy/);
    turn = await lan.command('/help');
    expect(turn.text).toMatch(/113 \(công an\), 114 \(cứu hỏa, cứu nạn\), 115 \(cấp cứu\)/);

    expect(fake.messagesTo(5005).join('\n')).not.toMatch(/Đã có lỗi xảy ra/);
    expect(answeredCallbackIds(fake)).toEqual(lan.pressedIds);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('answers unexpected input outside any flow with a clear message and the menu, in the person\'s language', async () => {
    const fake = await fakeTelegram();
    const log = recordingLogger();
    await startApp(fake, { logger: log });
    const lan = telegramUser(fake, 5006);
    const menu = /Bạn muốn làm gì\?/;

    // Before onboarding, anything but a few commands leads to the language and privacy notice.
    let turn = await lan.type('xin chào');
    expect(turn.text).toMatch(/Xin chào! Tôi là trợ lý tự động/);
    turn = await lan.command('/report');
    expect(turn.text).toMatch(/Trước tiên, mời bạn chọn ngôn ngữ và đọc thông báo về dữ liệu/);
    await lan.type('1');
    await lan.type('1');
    turn = await lan.type('3'); // place myself later
    expect(turn.text).toMatch(menu);

    turn = await lan.command('/nosuchthing');
    expect(turn.text).toMatch(/^Không có lệnh \/nosuchthing\. Gõ \/help để xem các lệnh có thể dùng\./);

    turn = await lan.send(fake.userSticker({ userId: 5006 }));
    expect(turn.text).toMatch(/Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video/);
    expect(turn.text).toMatch(menu);

    turn = await lan.send(fake.userLocation({ userId: 5006, latitude: 21.03, longitude: 105.85 }));
    expect(turn.text).toMatch(/Xin lỗi, tôi chưa hiểu/);
    expect(turn.text).toMatch(menu);

    turn = await lan.send(fake.userContact({ userId: 5006, phone: '+84901234567' }));
    expect(turn.text).toMatch(/Xin lỗi, tôi chưa hiểu/);
    expect(turn.text).toMatch(menu);

    turn = await lan.type('y'.repeat(5000));
    expect(turn.text).toMatch(/Tin nhắn quá dài \(5000 ký tự\)\. Vui lòng viết gọn lại, tối đa 4000 ký tự/);
    expect(turn.text).toMatch(menu);

    turn = await lan.type('hello there');
    expect(turn.text).toMatch(/Xin lỗi, tôi chưa hiểu/);

    turn = await lan.pressData('bogus:forged-data');
    expect(turn.text).toMatch(/Xin lỗi, tôi chưa hiểu/);
    expect(turn.text).toMatch(menu);
    turn = await lan.pressData('menu:nosuchaction');
    expect(turn.text).toMatch(/Xin lỗi, tôi chưa hiểu/);

    // The same in English once the person speaks English.
    await lan.command('/lang');
    await lan.press('English');
    turn = await lan.send(fake.userSticker({ userId: 5006 }));
    expect(turn.text).toMatch(/I cannot listen to voice messages or see stickers and videos yet/);
    expect(turn.text).toMatch(/What would you like to do\?/);
    turn = await lan.command('/nosuchthing');
    expect(turn.text).toMatch(/There is no \/nosuchthing command/);
    turn = await lan.type('z'.repeat(5000));
    expect(turn.text).toMatch(/That message is too long \(5000 characters\)/);

    // Still answering.
    turn = await lan.command('/help');
    expect(turn.text).toMatch(/Commands you can use/);

    expect(fake.messagesTo(5006).join('\n')).not.toMatch(/Đã có lỗi xảy ra|Something went wrong/);
    expect(answeredCallbackIds(fake)).toEqual(lan.pressedIds);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Webhook
// ---------------------------------------------------------------------------

describe('Telegram webhook', () => {
  async function startWebhookApp() {
    const fake = await fakeTelegram();
    const log = recordingLogger();
    const t = await startApp(fake, { webhook: true, logger: log });
    const url = `${t.baseUrl}/webhooks/telegram`;
    const post = webhookPoster(url, 'X-Telegram-Bot-Api-Secret-Token', SECRET);
    return { fake, log, t, post };
  }

  it('registers the webhook at PUBLIC_URL with the secret and answers a correct update', async () => {
    const { fake, log, t, post } = await startWebhookApp();

    const setWebhook = fake.calls.filter((c) => c.method === 'setWebhook');
    expect(setWebhook).toHaveLength(1);
    expect(setWebhook[0]!.body).toMatchObject({ url: `${PUBLIC_URL}/webhooks/telegram`, secret_token: SECRET });
    expect(fake.calls.some((c) => c.method === 'getUpdates')).toBe(false);
    expect(t.app.telegram!.mode).toBe('webhook');

    const since = fake.calls.length;
    const res = await post(fake.userCommand({ userId: 6001, text: '/start' }));
    expect(res.status).toBe(200);
    await fake.waitForText(6001, /Bạn muốn dùng ngôn ngữ nào/, 5000, { since });

    // Buttons work through the webhook too, and are answered.
    const callback = fake.callbackQuery({ userId: 6001, data: 'lang:en' });
    expect((await post(callback)).status).toBe(200);
    await fake.waitForText(6001, /automated system/, 5000, { since });
    await fake.waitFor((c) => c.method === 'answerCallbackQuery' && c.body.callback_query_id === callback.callback_query!.id);

    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('refuses updates without the right secret (401) and does not process them', async () => {
    const { fake, log, t, post } = await startWebhookApp();
    const start = fake.userCommand({ userId: 6002, text: '/start' });

    expect((await post(start, null)).status).toBe(401);
    expect((await post(start, 'wrong-secret-123')).status).toBe(401);
    expect((await post(start, '')).status).toBe(401);
    expect((await post(start, SECRET.slice(0, -1))).status).toBe(401);

    // A correct update afterwards is the first thing this person's chat sees.
    const help = fake.userCommand({ userId: 6002, text: '/help' });
    expect((await post(help)).status).toBe(200);
    await fake.waitForText(6002, /Bạn muốn làm gì\?/);
    expect(fake.messagesTo(6002).join('\n')).not.toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    expect(fake.messagesTo(6002)).toHaveLength(2);

    // The refused update was never recorded as handled: delivered properly, it is answered.
    const since = fake.calls.length;
    expect((await post(start)).status).toBe(200);
    await fake.waitForText(6002, /Bạn muốn dùng ngôn ngữ nào/, 5000, { since });
    expect(await t.app.db.person.count()).toBe(1);

    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('answers malformed bodies with 400 and keeps working', async () => {
    const { fake, log, post } = await startWebhookApp();

    expect((await post('{not json')).status).toBe(400);
    expect((await post('')).status).toBe(400);
    expect((await post('null')).status).toBe(400);
    expect((await post('42')).status).toBe(400);
    expect((await post([{ update_id: 1, message: {} }])).status).toBe(400);
    expect((await post({ message: { text: '/start' } })).status).toBe(400);
    expect((await post({ update_id: '7', message: { text: '/start' } })).status).toBe(400);
    // A wrong secret is refused before the body is even looked at.
    expect((await post('{not json', 'wrong-secret-123')).status).toBe(401);

    // An update of a kind the bot does not handle is accepted (Telegram would retry a 4xx) and ignored.
    expect((await post({ update_id: 900_000_001, edited_message: { message_id: 1, date: 1, chat: { id: 6003, type: 'private' }, text: 'x' } })).status).toBe(200);

    const res = await post(fake.userCommand({ userId: 6003, text: '/help' }));
    expect(res.status).toBe(200);
    await fake.waitForText(6003, /113 \(công an\)/);
    expect(fake.sent.every((c) => String(c.body.chat_id) === '6003')).toBe(true);

    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });

  it('answers an update delivered twice only once', async () => {
    const { fake, log, post } = await startWebhookApp();
    const start = fake.userCommand({ userId: 6004, text: '/start' });

    expect((await post(start)).status).toBe(200);
    await fake.waitForText(6004, /Bạn muốn dùng ngôn ngữ nào/);
    // A retry after the first was handled, and two overlapping retries.
    expect((await post(start)).status).toBe(200);
    const press = fake.callbackQuery({ userId: 6004, data: 'lang:vi' });
    const statuses = await Promise.all([post(press), post(press)]);
    expect(statuses.map((r) => r.status)).toEqual([200, 200]);
    await fake.waitForText(6004, /hệ thống tự động/);

    // Barrier: a later update of the same person is handled after the repeats.
    const since = fake.calls.length;
    expect((await post(fake.userCommand({ userId: 6004, text: '/nosuchthing' }))).status).toBe(200);
    await fake.waitForText(6004, /Không có lệnh \/nosuchthing/, 5000, { since });

    const texts = fake.messagesTo(6004);
    expect(texts.filter((x) => /Bạn muốn dùng ngôn ngữ nào/.test(x))).toHaveLength(1);
    expect(texts.filter((x) => /hệ thống tự động/.test(x))).toHaveLength(1);
    expect(log.errors).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });
});
