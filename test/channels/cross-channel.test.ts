/**
 * Telegram, Zalo and the web chat in one running service: a person is a channel account
 * (the same id on two platforms is two people), and each channel answers its own users.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, type FakeZalo } from '../fakes/fake-zalo-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient, texts } from '../helpers/web-client.js';
import { updateHandled } from '../helpers/telegram-user.js';
import { zaloTextUser } from '../helpers/zalo-user.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_cross_channel';

let telegram: FakeTelegram;
let zalo: FakeZalo;
let t: TestApp;

afterEach(async () => {
  await t?.dispose();
  await telegram?.close();
  await zalo?.close();
});

async function startAll(): Promise<void> {
  telegram = await startFakeTelegram({ token: TELEGRAM_TOKEN });
  zalo = await startFakeZalo();
  t = await startTestApp({
    env: {
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ZALO_BOT_TOKEN: zalo.token,
      ZALO_API_ROOT: zalo.apiRoot,
    },
  });
}

/** A Telegram user; each action resolves with the texts the bot sent back, once the update is handled. */
function telegramUser(userId: number) {
  const isMine = (c: RecordedCall) => c.method === 'sendMessage' && String(c.body.chat_id) === String(userId);
  async function send(update: Update): Promise<string> {
    const since = telegram.calls.length;
    await telegram.pushUpdate(update);
    await updateHandled(telegram, update.update_id, 5000);
    return telegram.calls.slice(since).filter(isMine).map((c) => String(c.body.text)).join('\n---\n');
  }
  function button(label: string) {
    const last = telegram.calls.filter(isMine).reverse().find((c) => c.body.reply_markup);
    const buttons = (last?.body.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard.flat() ?? [];
    const index = buttons.findIndex((b) => b.text.includes(label));
    if (index < 0) throw new Error(`no button "${label}" among ${buttons.map((b) => b.text).join(' | ')}`);
    return { index, data: buttons[index]!.callback_data };
  }
  const user = {
    type: (text: string) => send(text.startsWith('/') ? telegram.userCommand({ userId, text }) : telegram.userMessage({ userId, text })),
    press: (label: string) => send(telegram.callbackQuery({ userId, data: button(label).data })),
    /** Types the number of the button labelled `label`, as on Zalo. */
    typeNumberOf: (label: string) => user.type(String(button(label).index + 1)),
  };
  return user;
}

/** A Zalo user; each action resolves with the texts the bot sent back, once the polling loop is idle again. */
const zaloUser = (id: string) => zaloTextUser(zalo, id, { wait: 5000 });

describe('several channels in one service', () => {
  it('keeps a separate person per channel account, even with the same platform id', async () => {
    await startAll();
    const onTelegram = telegramUser(777_000_111);
    const onZalo = zaloUser('777000111');

    // Telegram: onboarding in English, to the end.
    await onTelegram.type('/start');
    await onTelegram.press('English');
    await onTelegram.press('I agree');
    await onTelegram.press('invite code');
    expect(await onTelegram.type('KMA234')).toMatch(/to see your name\?/);
    expect(await onTelegram.press('No, keep it private')).toMatch(/You have joined Tổ dân phố số 1 \(Phường Giảng Võ\)/);

    // Zalo, same id: a stranger to the service, greeted from the start in the default language.
    let reply = await onZalo.type('/start');
    expect(reply).toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    expect(reply).not.toMatch(/Welcome back|Chào mừng bạn quay lại/);
    reply = await onZalo.choose('Tiếng Việt');
    expect(reply).toMatch(/hệ thống tự động/);

    // Each keeps its own step and its own list of numbered choices.
    expect(await onTelegram.typeNumberOf('Language')).toMatch(/Chọn ngôn ngữ \/ Choose your language/);
    expect(await onZalo.choose('Tôi đồng ý')).toMatch(/Bạn sống ở khu dân cư nào/);
    expect(await onTelegram.type('/start')).toMatch(/Welcome back!/);
    expect(await onZalo.type('/cancel')).toMatch(/Đã hủy/);

    const people = await t.app.db.person.findMany({ include: { accounts: true, memberships: true }, orderBy: { createdAt: 'asc' } });
    expect(people).toHaveLength(2);
    const [tgPerson, zaloPerson] = people;
    expect(tgPerson!.accounts.map((a) => [a.channel, a.externalId])).toEqual([['telegram', '777000111']]);
    expect(zaloPerson!.accounts.map((a) => [a.channel, a.externalId])).toEqual([['zalo', '777000111']]);
    expect([tgPerson!.locale, zaloPerson!.locale]).toEqual(['en', 'vi']);
    expect(tgPerson!.onboardedAt).not.toBeNull();
    expect(tgPerson!.memberships).toHaveLength(1);
    expect(zaloPerson!.memberships).toHaveLength(0);

    // Nothing crossed over: each fake only carried its own user's chat.
    expect(new Set(telegram.sent.map((c) => String(c.body.chat_id)))).toEqual(new Set(['777000111']));
    expect(new Set(zalo.sent.filter((c) => c.method === 'sendMessage').map((c) => c.body.chat_id))).toEqual(new Set(['777000111']));
    expect(telegram.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  });

  it('runs Telegram, Zalo and the web chat at once, each answering its own users', async () => {
    await startAll();
    const health = (await (await fetch(`${t.baseUrl}/healthz`)).json()) as { channels: Record<string, string> };
    expect(health.channels).toEqual({ telegram: 'polling', zalo: 'polling', web: 'on' });

    const tg = telegramUser(888_001);
    const za = zaloUser('zalo-888-002');
    const web = createWebClient(t.baseUrl);

    // All three start at the same moment.
    const [tgReply, zaReply, webReplies] = await Promise.all([tg.type('/start'), za.type('/start'), web.say('/start')]);
    expect(tgReply).toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    expect(zaReply).toMatch(/Bạn muốn dùng ngôn ngữ nào\?\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. /);
    expect(texts(webReplies)).toMatch(/Bạn muốn dùng ngôn ngữ nào/);

    // Then each goes its own way, interleaved, all at once.
    const [tgLang, zaLang, webLang] = await Promise.all([tg.press('English'), za.choose('Tiếng Việt'), web.say('2')]);
    expect(tgLang).toMatch(/automated system/);
    expect(zaLang).toMatch(/hệ thống tự động/);
    expect(texts(webLang)).toMatch(/automated system/);

    const [tgAgree, zaAgree, webAgree] = await Promise.all([tg.press('I agree'), za.choose('Tôi đồng ý'), web.say('1')]);
    expect(tgAgree).toMatch(/Which residential group/);
    expect(zaAgree).toMatch(/Bạn sống ở khu dân cư nào/);
    expect(texts(webAgree)).toMatch(/Which residential group/);

    await Promise.all([tg.press('invite code'), za.choose('Nhập mã mời'), web.say('2')]);
    const [tgAsk, zaAsk, webAsk] = await Promise.all([tg.type('KMA234'), za.type('dbc345'), web.say('HBD678')]);
    expect(tgAsk).toMatch(/to see your name\?/);
    expect(zaAsk).toMatch(/thấy tên của bạn không\?/);
    expect(texts(webAsk)).toMatch(/to see your name\?/);
    const [tgDone, zaDone, webDone] = await Promise.all([tg.press('No, keep it private'), za.choose('Không, giữ kín'), web.say('2')]);
    expect(tgDone).toMatch(/You have joined Tổ dân phố số 1 \(Phường Giảng Võ\)/);
    expect(zaDone).toMatch(/Bạn đã tham gia Tổ dân phố số 3 \(Phường Ba Đình\)/);
    expect(texts(webDone)).toMatch(/You have joined Tổ dân phố số 5 \(Phường Hoàn Kiếm\)/);

    const accounts = await t.app.db.channelAccount.findMany({ include: { person: { include: { memberships: { include: { group: true } } } } } });
    const byChannel = Object.fromEntries(accounts.map((a) => [a.channel, a.person]));
    expect(Object.keys(byChannel).sort()).toEqual(['telegram', 'web', 'zalo']);
    expect(byChannel.telegram!.memberships.map((m) => m.group.name)).toEqual(['Tổ dân phố số 1']);
    expect(byChannel.zalo!.memberships.map((m) => m.group.name)).toEqual(['Tổ dân phố số 3']);
    expect(byChannel.web!.memberships.map((m) => m.group.name)).toEqual(['Tổ dân phố số 5']);

    // Each platform only ever carried its own user's chat, and only plain text went to Zalo.
    expect(new Set(telegram.sent.map((c) => String(c.body.chat_id)))).toEqual(new Set(['888001']));
    expect(new Set(zalo.sent.filter((c) => c.method === 'sendMessage').map((c) => c.body.chat_id))).toEqual(new Set(['zalo-888-002']));
    expect(telegram.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  });
});
