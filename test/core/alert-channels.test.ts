/**
 * Alerts end to end on all three channels: a leader composes on Telegram (buttons, typed
 * numbers, a typed expiry), previews, confirms; residents on Telegram, Zalo and the web chat
 * each get one copy and answer it on their own channel; the sender's status message is
 * edited in place; re-ping, update and cancel reach the right people; late answers are
 * refused once the alert expired. Real service, real SQLite, the fakes of both platforms.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, type FakeZalo } from '../fakes/fake-zalo-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { texts, type WebClient, type WebReply } from '../helpers/web-client.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { keyboardOf as buttonsOf, tgText as textOf, updateHandled } from '../helpers/telegram-user.js';
import { zaloTextUser } from '../helpers/zalo-user.js';
import { onboardWeb } from '../helpers/onboarding.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_alert_channels';
/** How often the follow-up job may refresh the sender's counts in these tests. */
const FOLLOW_MS = 500;
const GROUP = 'HN-GV-01';
const HEADER = /CẢNH BÁO — .*\(mức cao\)/;
const EXERCISE = 'DIỄN TẬP — KHÔNG PHẢI TÌNH HUỐNG THẬT';
const ANSWER_LABELS = ['✅ Đã nhận', '🙆 Tôi an toàn', '🆘 Cần giúp đỡ'];

let tg: FakeTelegram | undefined;
let zalo: FakeZalo | undefined;
let t: TestApp | undefined;

afterEach(async () => {
  await t?.dispose();
  await tg?.close();
  await zalo?.close();
  t = tg = zalo = undefined;
});

/** A clock the test can move forward (expiry) or hold still (so preview and copy name the same minute). */
function testClock() {
  let offset = 0;
  let frozen: number | undefined;
  return {
    clock: { now: () => new Date(frozen ?? Date.now() + offset) },
    advance(ms: number) {
      offset += ms;
    },
    freeze() {
      frozen = Date.now() + offset;
    },
    unfreeze() {
      frozen = undefined;
    },
  };
}

async function startAll(clock: ReturnType<typeof testClock>) {
  tg = await startFakeTelegram({ token: TELEGRAM_TOKEN });
  zalo = await startFakeZalo();
  t = await startTestApp({
    env: { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, ZALO_BOT_TOKEN: zalo.token, ZALO_API_ROOT: zalo.apiRoot },
    appOptions: { clock: clock.clock, alertFollowUpMs: FOLLOW_MS, delivery: { idlePollMs: 20 } },
  });
  return { tg, zalo, t };
}

/** A Telegram user; each action resolves with the texts the bot sent to the chat meanwhile, once the update is handled. */
function telegramUser(fake: FakeTelegram, userId: number) {
  const isMine = (c: RecordedCall) => c.method === 'sendMessage' && String(c.body.chat_id) === String(userId);
  let last: RecordedCall[] = [];
  async function send(update: Update): Promise<string> {
    const since = fake.calls.length;
    await fake.pushUpdate(update);
    await updateHandled(fake, update.update_id, 8000);
    last = fake.calls.slice(since).filter(isMine);
    return last.map(textOf).join('\n---\n');
  }
  /** The button labelled `label` in the newest message of the last answer that has one. */
  function button(label: string) {
    for (const call of [...last].reverse()) {
      const buttons = buttonsOf(call);
      const index = buttons.findIndex((b) => b.text.includes(label));
      if (index >= 0) return { call, index, data: buttons[index]!.callback_data };
    }
    throw new Error(`no button "${label}" in the last answer:\n${last.map((c) => `${textOf(c)} [${buttonsOf(c).map((b) => b.text).join(' | ')}]`).join('\n')}`);
  }
  const user = {
    id: userId,
    chat: String(userId),
    type: (text: string) => send(text.startsWith('/') ? fake.userCommand({ userId, text, languageCode: 'vi' }) : fake.userMessage({ userId, text, languageCode: 'vi' })),
    press(label: string) {
      const b = button(label);
      return send(fake.callbackQuery({ userId, data: b.data, messageId: (b.call.result as { message_id: number }).message_id }));
    },
    /** Presses a button of a given message (e.g. a notification received earlier). */
    pressOn(call: RecordedCall, label: string) {
      const b = buttonsOf(call).find((x) => x.text.includes(label));
      if (!b) throw new Error(`no button "${label}" on ${textOf(call)}`);
      return send(fake.callbackQuery({ userId, data: b.callback_data, messageId: (call.result as { message_id: number }).message_id }));
    },
    /** Messages (sent, not edits) to this chat whose text matches. */
    received: (match: RegExp) => fake.calls.filter((c) => isMine(c) && match.test(textOf(c))),
    async onboard(code: string) {
      await user.type('/start');
      await user.press('Tiếng Việt');
      await user.press('Tôi đồng ý');
      await user.press('Nhập mã mời');
      expect(await user.type(code)).toMatch(/thấy tên của bạn không\?/);
      expect(await user.press('Không, giữ kín')).toMatch(/Bạn đã tham gia/);
    },
  };
  return user;
}

/** A Zalo user; each action resolves with the texts the bot sent back, once the polling loop waits again. */
function zaloUser(fake: FakeZalo, id: string) {
  const base = zaloTextUser(fake, id, { wait: 8000 });
  const user = {
    ...base,
    async onboard(code: string) {
      await base.type('/start');
      await user.choose('Tiếng Việt');
      await user.choose('Tôi đồng ý');
      await user.choose('Nhập mã mời');
      expect(await base.type(code)).toMatch(/thấy tên của bạn không\?/);
      expect(await user.choose('Không, giữ kín')).toMatch(/Bạn đã tham gia/);
    },
  };
  return user;
}

/** Collects a web session's messages; `waitFor` resolves with the first one matching (kept ones included). */
function webInbox(web: WebClient) {
  const all: WebReply[] = [];
  const pull = async () => {
    all.push(...(await web.fetchNew()).messages);
  };
  return {
    all,
    add: (replies: WebReply[]) => all.push(...replies),
    async waitFor(match: RegExp, count = 1): Promise<WebReply[]> {
      let hits: WebReply[] = [];
      await vi.waitFor(
        async () => {
          await pull();
          hits = all.filter((m) => match.test(m.text));
          if (hits.length < count) throw new Error(`no web message matching ${match}; saw:\n${all.map((m) => m.text).join('\n---\n')}`);
        },
        { timeout: 10_000, interval: 50 },
      );
      return hits;
    },
    async matching(match: RegExp) {
      await pull();
      return all.filter((m) => match.test(m.text));
    },
  };
}

/** A resident created straight in the database: a person, a Telegram account and an active membership. */
async function insertTelegramResident(app: TestApp['app'], chatId: number, groupCode = GROUP) {
  const group = await app.db.group.findUniqueOrThrow({ where: { code: groupCode } });
  const person = await app.db.person.create({
    data: {
      locale: 'vi',
      displayName: `Cư dân ${chatId}`,
      onboardedAt: new Date(),
      accounts: { create: { channel: 'telegram', externalId: String(chatId), chatId: String(chatId) } },
      memberships: { create: { groupId: group.id, role: 'member', state: 'active' } },
    },
  });
  return { personId: person.id, chat: String(chatId) };
}

const count = (s: string, part: string) => s.split(part).length - 1;

describe('alerts on Telegram, Zalo and the web chat', () => {
  it('composes on Telegram, previews exactly the copy, fans out once per resident, records answers on every channel, follows up live', async () => {
    const clock = testClock();
    const { tg, zalo, t } = await startAll(clock);
    const { app } = t;

    const leader = telegramUser(tg, 610_000_001);
    const tgResident = telegramUser(tg, 610_000_002);
    const tgSilent = telegramUser(tg, 610_000_003);
    const zaloResident = zaloUser(zalo, 'zalo-resident-610');
    // Everyone joins through their own channel (the channels run side by side).
    const [, , , , web] = await Promise.all([
      leader.onboard('KMA234'),
      tgResident.onboard('KMA234'),
      tgSilent.onboard('KMA234'),
      zaloResident.onboard('KMA234'),
      onboardWeb(t.baseUrl, 'KMA234'),
    ]);
    const webBox = webInbox(web);
    const dbResidents = [await insertTelegramResident(app, 620_000_001), await insertTelegramResident(app, 620_000_002)];
    const leaderPerson = await personOf(app, 'telegram', leader.chat);
    await makeLeader(app, leaderPerson.id, GROUP);
    await makeLeader(app, leaderPerson.id, 'HN-GV-02', 'deputy'); // two groups to choose from
    const recipients = 7; // the leader is a member too

    // Compose: groups by buttons, category and severity by typed numbers, expiry typed.
    let r = await leader.type('/alert');
    expect(r).toMatch(/Gửi cảnh báo tới khu dân cư nào/);
    r = await leader.press('Tổ dân phố số 1');
    expect(r).toMatch(/Gửi cảnh báo tới khu dân cư nào/);
    expect(leader.received(/Gửi cảnh báo tới khu dân cư nào/).at(-1)!.body.reply_markup).toBeDefined();
    expect(buttonsOf(leader.received(/Gửi cảnh báo tới khu dân cư nào/).at(-1)!).map((b) => b.text)).toContain('☑️ Tổ dân phố số 1 (Phường Giảng Võ)');
    r = await leader.press('Xong');
    expect(r).toMatch(/Loại cảnh báo/);
    r = await leader.type('2'); // 🔥 Cháy, nổ
    expect(r).toMatch(/Mức độ:/);
    r = await leader.type('2'); // Cao
    expect(r).toMatch(/Tiêu đề ngắn/);
    r = await leader.type('Cháy kho ở ngõ 5');
    r = await leader.type('Đang có cháy tại kho hàng ngõ 5, khói lớn.');
    expect(r).toMatch(/Hướng dẫn người dân/);
    r = await leader.type('Tránh xa khu vực, đóng cửa sổ.');
    expect(r).toMatch(/hiệu lực trong bao lâu/);
    r = await leader.type('một lúc');
    expect(r).toMatch(/Không hiểu thời hạn/);
    r = await leader.type('90 phút');
    expect(r).toMatch(/thật hay diễn tập/);
    clock.freeze(); // the preview and the copies name the same "valid until" minute
    r = await leader.press('Diễn tập');
    expect(r).toMatch(/Xem trước/);
    expect(r).toMatch(new RegExp(`\\(${recipients} người nhận\\)`));
    const preview = leader.received(/Xem trước/).at(-1)!;
    const previewLines = textOf(preview).split('\n');
    expect(previewLines[0]).toMatch(/^Xem trước/);
    expect(previewLines[1]).toBe('');
    const copyLines = previewLines.slice(2);
    expect(count(textOf(preview), EXERCISE)).toBe(2);

    // Nothing is sent before confirm.
    expect(await app.db.alert.count()).toBe(0);
    expect(await app.db.delivery.count({ where: { alertId: { not: null } } })).toBe(0);

    const sinceConfirm = tg.calls.length;
    r = await leader.press('Gửi cảnh báo');
    clock.unfreeze();
    expect(r).toMatch(new RegExp(`Đã bắt đầu gửi cảnh báo tới ${recipients} người`));
    const alert = await app.db.alert.findFirstOrThrow({ where: { kind: 'alert' } });
    expect(alert).toMatchObject({ category: 'fire', severity: 'severe', exercise: true, headline: 'Cháy kho ở ngõ 5', instruction: 'Tránh xa khu vực, đóng cửa sổ.' });
    expect(alert.expiresAt.getTime() - alert.createdAt.getTime()).toBe(90 * 60_000);

    // Every resident gets one copy, on their own channel, exactly as previewed.
    const telegramChats = [leader.chat, tgResident.chat, tgSilent.chat, ...dbResidents.map((d) => d.chat)];
    const tgCopies = new Map<string, RecordedCall>();
    for (const chat of telegramChats) tgCopies.set(chat, await tg.waitForText(chat, HEADER, 10_000, { since: sinceConfirm }));
    for (const copy of tgCopies.values()) {
      expect(textOf(copy).split('\n')).toEqual(copyLines);
      expect(count(textOf(copy), EXERCISE)).toBe(2);
      expect(buttonsOf(copy).map((b) => b.text)).toEqual(ANSWER_LABELS);
    }
    const zaloCopy = await zalo.waitFor((c) => c.body.chat_id === zaloResident.id && HEADER.test(String(c.body.text)), 10_000);
    // The same lines, then the answers as a numbered list (maybe under a "type a number" hint).
    const zaloLines = String(zaloCopy.body.text).split('\n');
    expect(zaloLines.slice(0, copyLines.length + 1)).toEqual([...copyLines, '']);
    expect(zaloLines.slice(-3)).toEqual(['1. ✅ Đã nhận', '2. 🙆 Tôi an toàn', '3. 🆘 Cần giúp đỡ']);
    expect(zaloLines.slice(copyLines.length + 1, -3).every((l) => /Trả lời bằng cách gõ số/.test(l))).toBe(true);
    expect(Object.keys(zaloCopy.body).sort()).toEqual(['chat_id', 'text']); // no buttons on Zalo
    expect(count(String(zaloCopy.body.text), EXERCISE)).toBe(2);
    const [webCopy] = await webBox.waitFor(HEADER);
    expect(webCopy!.text.split('\n')).toEqual(copyLines);
    expect(count(webCopy!.text, EXERCISE)).toBe(2);
    expect(webCopy!.choices?.flat().map((c) => c.label)).toEqual(ANSWER_LABELS);

    // The sender's live status message: one message, then edits of it.
    const statusCall = await tg.waitForText(leader.chat, /Tình hình cảnh báo/, 10_000);
    const statusId = (statusCall.result as { message_id: number }).message_id;
    await tg.waitFor((c) => c.method === 'editMessageText' && c.body.message_id === statusId && /Đã gửi xong: 7\n/.test(textOf(c)), 10_000);

    // Answers: a button on Telegram, "2" typed on Zalo, a button on the web chat.
    expect(await tgResident.pressOn(tgCopies.get(tgResident.chat)!, 'Đã nhận')).toMatch(/Đã ghi nhận câu trả lời/);
    expect(await zaloResident.type('2')).toMatch(/Đã ghi nhận câu trả lời/);
    const helpReply = await web.choose(webCopy!.choices![2]![0]!.id);
    webBox.add(helpReply);
    expect(texts(helpReply)).toMatch(/Đã báo cho .+ \(mã phản ánh PA-[A-Z0-9]+\)/);
    const ref = /\(mã phản ánh (PA-[A-Z0-9]+)\)/.exec(texts(helpReply))![1]!;

    const answers = async () =>
      Object.fromEntries(
        (await app.db.delivery.findMany({ where: { alertId: alert.id, kind: 'alert' }, include: { account: true } })).map((d) => [`${d.channel}:${d.chatId}`, d.answer]),
      );
    const webAccount = await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: web.session } } });
    expect(await answers()).toEqual({
      ...Object.fromEntries(telegramChats.map((c) => [`telegram:${c}`, null])),
      [`telegram:${tgResident.chat}`]: 'received',
      [`zalo:${zaloResident.id}`]: 'safe',
      [`web:${webAccount.chatId}`]: 'need_help',
    });
    const rows = await app.db.delivery.findMany({ where: { alertId: alert.id, kind: 'alert' } });
    expect(rows).toHaveLength(recipients);
    for (const row of rows) {
      expect(row.status).toBe('sent');
      expect(row.platformMessageId).toBeTruthy();
      expect(row.sentAt).toBeInstanceOf(Date);
    }
    expect(rows.find((d) => d.answer === 'received')!.answeredAt).toBeInstanceOf(Date);

    // "Need help" opened an urgent case that reached the leader.
    const helpCase = await app.db.case.findUniqueOrThrow({ where: { ref } });
    const km01 = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    expect(helpCase).toMatchObject({ urgent: true, category: 'fire', groupId: km01.id, reporterId: webAccount.personId });
    expect(helpCase.description).toMatch(/Cháy kho ở ngõ 5/);
    await tg.waitForText(leader.chat, ref, 10_000);

    // The status message is edited in place until it shows every answer.
    await tg.waitFor(
      (c) => c.method === 'editMessageText' && c.body.message_id === statusId && /"Đã nhận": 1\n🙆 "Tôi an toàn": 1\n🆘 "Cần giúp đỡ": 1/.test(textOf(c)),
      10_000,
    );
    const edits = tg.calls.filter((c) => c.method === 'editMessageText' && String(c.body.chat_id) === leader.chat);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(new Set(edits.map((e) => e.body.message_id))).toEqual(new Set([statusId]));
    for (let i = 1; i < edits.length; i++) {
      expect(textOf(edits[i]!)).not.toBe(textOf(edits[i - 1]!)); // only when the counts changed
      expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(FOLLOW_MS * 0.7);
    }
    expect(leader.received(/Tình hình cảnh báo/)).toHaveLength(1);

    // Re-ping now: only those who have not answered, never the sender themself.
    const reminders = /NHẮC LẠI: bạn chưa trả lời/;
    const statusButtons = buttonsOf(statusCall);
    const statusButton = (label: string) => ({ ...statusCall, body: { ...statusCall.body, reply_markup: { inline_keyboard: [statusButtons.filter((b) => b.text.includes(label))] } } });
    r = await leader.pressOn(statusButton('Nhắc người chưa trả lời'), 'Nhắc người chưa trả lời');
    expect(r).toMatch(/Nhắc những người chưa trả lời vào lúc nào/);
    r = await leader.press('Ngay bây giờ');
    expect(r).toMatch(/Đã nhắc lại 3 người chưa trả lời/);
    const silentChats = [tgSilent.chat, ...dbResidents.map((d) => d.chat)];
    for (const chat of silentChats) {
      const reminder = await tg.waitForText(chat, reminders, 10_000);
      expect(count(textOf(reminder), EXERCISE)).toBe(2);
      expect(buttonsOf(reminder).map((b) => b.text)).toEqual(ANSWER_LABELS);
    }
    await vi.waitFor(async () => expect(await app.db.delivery.count({ where: { kind: 'alert_reping', status: { not: 'sent' } } })).toBe(0));
    expect(await app.db.delivery.count({ where: { kind: 'alert_reping' } })).toBe(3);
    expect(leader.received(reminders)).toHaveLength(0);
    expect(tgResident.received(reminders)).toHaveLength(0);
    expect(zaloResident.received(reminders)).toHaveLength(0);
    expect(await webBox.matching(reminders)).toHaveLength(0);

    // A reminded resident answers the reminder: it counts for the alert.
    const silentReminder = tgSilent.received(reminders)[0]!;
    expect(await tgSilent.pressOn(silentReminder, 'Tôi an toàn')).toMatch(/Đã ghi nhận/);
    expect((await answers())[`telegram:${tgSilent.chat}`]).toBe('safe');

    // Update: the same recipients, with the banner and the answer buttons of the original alert.
    const updateBanner = /🔄 CẬP NHẬT cho cảnh báo "Cháy kho ở ngõ 5":/;
    r = await leader.pressOn(statusButton('Gửi cập nhật'), 'Gửi cập nhật');
    expect(r).toMatch(/Gõ nội dung cập nhật/);
    r = await leader.type('Đám cháy đã được khống chế, vẫn tránh xa ngõ 5.');
    expect(r).toMatch(new RegExp(`Đã gửi cập nhật tới ${recipients} người`));
    for (const chat of telegramChats) {
      const update = await tg.waitForText(chat, updateBanner, 10_000);
      expect(textOf(update)).toMatch(/Đám cháy đã được khống chế/);
      expect(count(textOf(update), EXERCISE)).toBe(2);
      expect(buttonsOf(update).map((b) => b.callback_data)).toEqual(['r', 's', 'h'].map((c) => `a:${alert.id}:${c}`));
    }
    const zaloUpdate = await zalo.waitFor((c) => c.body.chat_id === zaloResident.id && updateBanner.test(String(c.body.text)), 10_000);
    expect(count(String(zaloUpdate.body.text), EXERCISE)).toBe(2);
    const [webUpdate] = await webBox.waitFor(updateBanner);
    expect(count(webUpdate!.text, EXERCISE)).toBe(2);

    // Cancel: the same recipients again, with the cancel banner and no answer buttons.
    const cancelBanner = /✅ ĐÃ HỦY cảnh báo "Cháy kho ở ngõ 5"\. Bà con không cần làm gì thêm\./;
    r = await leader.pressOn(statusButton('Hủy cảnh báo'), 'Hủy cảnh báo');
    expect(r).toMatch(/Gõ lý do hủy/);
    r = await leader.type('Đã dập tắt hoàn toàn.');
    expect(r).toMatch(new RegExp(`Hủy cảnh báo "Cháy kho ở ngõ 5" và báo cho ${recipients} người đã nhận`));
    r = await leader.press('Hủy cảnh báo');
    expect(r).toMatch(new RegExp(`Đã hủy cảnh báo và báo cho ${recipients} người`));
    for (const chat of telegramChats) {
      const cancel = await tg.waitForText(chat, cancelBanner, 10_000);
      expect(textOf(cancel)).toMatch(/Đã dập tắt hoàn toàn/);
      expect(count(textOf(cancel), EXERCISE)).toBe(2);
      expect(buttonsOf(cancel)).toEqual([]);
    }
    const zaloCancel = await zalo.waitFor((c) => c.body.chat_id === zaloResident.id && cancelBanner.test(String(c.body.text)), 10_000);
    expect(count(String(zaloCancel.body.text), EXERCISE)).toBe(2);
    expect(String(zaloCancel.body.text)).not.toMatch(/^1\. /m);
    const [webCancel] = await webBox.waitFor(cancelBanner);
    expect(count(webCancel!.text, EXERCISE)).toBe(2);
    expect(await app.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({ status: 'cancelled' });

    // Still one copy of the alert itself per resident, and nothing to anyone else.
    for (const chat of telegramChats) expect(tg.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === chat && HEADER.test(textOf(c)) && !/Xem trước|NHẮC LẠI|CẬP NHẬT|ĐÃ HỦY/.test(textOf(c)))).toHaveLength(1);
    expect(zaloResident.received(HEADER).filter((c) => !/CẬP NHẬT|ĐÃ HỦY/.test(String(c.body.text)))).toHaveLength(1);
    expect((await webBox.matching(HEADER)).filter((m) => !/CẬP NHẬT|ĐÃ HỦY/.test(m.text))).toHaveLength(1);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 60_000); // five people join side by side first, each answering whether leaders may see their name

  it('refuses /alert to residents and to members of other groups, and refuses answers after expiry', async () => {
    const clock = testClock();
    const { tg, zalo, t } = await startAll(clock);
    const { app } = t;

    const leader = telegramUser(tg, 630_000_001);
    const resident = telegramUser(tg, 630_000_002);
    const outsider = telegramUser(tg, 630_000_003);
    const zaloResident = zaloUser(zalo, 'zalo-resident-630');
    await Promise.all([leader.onboard('KMA234'), resident.onboard('KMA234'), outsider.onboard('DBC345'), zaloResident.onboard('KMA234')]);
    await makeLeader(app, (await personOf(app, 'telegram', leader.chat)).id, GROUP);

    // Plain residents, of this group or another, cannot send alerts: a clear refusal.
    for (const who of [resident, outsider]) {
      const reply = await who.type('/alert');
      expect(reply).toMatch(/Chỉ tổ trưởng, tổ phó \(cho khu dân cư của mình\) và cán bộ công an \(cho các khu dân cư trong địa bàn\) mới gửi được cảnh báo/);
      expect(reply).not.toMatch(/Loại cảnh báo/);
    }
    const zaloRefusal = await zaloResident.type('/alert');
    expect(zaloRefusal).toMatch(/Chỉ tổ trưởng, tổ phó/);
    expect(await app.db.alert.count()).toBe(0);

    // A leader of the other group may alert their own group only; this group's is not theirs.
    await makeLeader(app, (await personOf(app, 'telegram', outsider.chat)).id, 'HN-BD-03');
    const km01 = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const outsiderId = (await personOf(app, 'telegram', outsider.chat)).id;
    expect((await app.services.alerts.sendableGroups(outsiderId)).map((g) => g.code)).toEqual(['HN-BD-03']);
    await expect(
      app.services.alerts.send(outsiderId, { groupIds: [km01.id], category: 'security', severity: 'minor', headline: 'x', text: 'y', expiresInMs: 3_600_000, exercise: false }),
    ).rejects.toMatchObject({ code: 'alerts:forbiddenGroup' });

    // The leader sends a one-hour alert (1 h button); residents get it on Telegram and Zalo.
    let r = await leader.type('/alert');
    expect(r).toMatch(/Loại cảnh báo/); // one group only: no group step
    r = await leader.press('An ninh');
    r = await leader.press('Trung bình');
    r = await leader.type('Người lạ kiểm tra đồng hồ điện');
    r = await leader.type('Có người tự xưng thợ điện đi gõ cửa từng nhà.');
    r = await leader.press('Bỏ qua');
    expect(r).toMatch(/hiệu lực trong bao lâu/);
    r = await leader.press('1 giờ');
    r = await leader.press('Cảnh báo thật');
    expect(r).toMatch(/Xem trước/);
    expect(r).not.toMatch(/DIỄN TẬP/);
    r = await leader.press('Gửi cảnh báo');
    expect(r).toMatch(/Đã bắt đầu gửi cảnh báo tới 3 người/);
    const alert = await app.db.alert.findFirstOrThrow();
    expect(alert.expiresAt.getTime() - alert.createdAt.getTime()).toBe(3_600_000);
    const copy = await tg.waitForText(resident.chat, /CẢNH BÁO — .*\(mức trung bình\)/, 10_000);
    expect(textOf(copy)).not.toMatch(/DIỄN TẬP/);
    await zalo.waitFor((c) => c.body.chat_id === zaloResident.id && /CẢNH BÁO — .*\(mức trung bình\)/.test(String(c.body.text)), 10_000);
    expect(outsider.received(/CẢNH BÁO/)).toHaveLength(0);
    await vi.waitFor(async () => expect(await app.db.delivery.count({ where: { alertId: alert.id, kind: 'alert', status: 'sent' } })).toBe(3), { timeout: 10_000 });

    // Two hours later the alert has expired: late answers are told so and not recorded.
    clock.advance(2 * 3_600_000);
    expect(await resident.pressOn(copy, 'Tôi an toàn')).toMatch(/Cảnh báo này đã hết hạn nên câu trả lời không được ghi nhận/);
    expect(await zaloResident.type('3')).toMatch(/Cảnh báo này đã hết hạn/);
    const rows = await app.db.delivery.findMany({ where: { alertId: alert.id, kind: 'alert' } });
    expect(rows.map((d) => d.answer)).toEqual([null, null, null]);
    expect(await app.db.case.count()).toBe(0); // the late "need help" opened no case
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  });
});
