/**
 * One case across channels: a resident reports on Zalo (numbers only), a ward officer
 * handles it on Telegram (buttons). Acknowledge, a question and its answer, resolve,
 * "not fixed" back into the queue, resolve again, "fixed" closes it; the reporter's
 * photo reaches the officer as an uploaded Telegram photo.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, TINY_JPEG, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, postToWebhook, type FakeZalo, type FakeZaloCall } from '../fakes/fake-zalo-server.js';
import { startTestApp, tempDir, type TestApp } from '../helpers/test-app.js';
import { makeOfficer, personOf } from '../helpers/roles.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_cross_report';
const REF = /^PA-[A-HJ-KMNP-Z2-9]{4,5}$/;
const WAIT = 15_000;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

interface World {
  tg: FakeTelegram;
  zalo: FakeZalo;
  t: TestApp;
}

async function startFakes(): Promise<{ tg: FakeTelegram; zalo: FakeZalo }> {
  const tg = await startFakeTelegram({ token: TELEGRAM_TOKEN });
  const zalo = await startFakeZalo();
  cleanups.push(async () => {
    await tg.close();
    await zalo.close();
  });
  return { tg, zalo };
}

async function startApp(fakes: { tg: FakeTelegram; zalo: FakeZalo }, dir?: string): Promise<TestApp> {
  const t = await startTestApp({
    dir,
    env: {
      TELEGRAM_BOT_TOKEN: fakes.tg.token,
      TELEGRAM_API_ROOT: fakes.tg.apiRoot,
      ZALO_BOT_TOKEN: fakes.zalo.token,
      ZALO_API_ROOT: fakes.zalo.apiRoot,
    },
  });
  cleanups.push(() => t.stop());
  return t;
}

async function startWorld(): Promise<World> {
  const fakes = await startFakes();
  const dir = tempDir();
  cleanups.push(async () => {
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...fakes, t: await startApp(fakes, dir) };
}

/** A JPEG that is not the fake Telegram's default one: the tiny JPEG with a comment segment. */
function distinctJpeg(comment: string): Buffer {
  const body = Buffer.from(comment, 'latin1');
  const header = Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([TINY_JPEG.subarray(0, 2), header, body, TINY_JPEG.subarray(2)]);
}

/** Zalo photo URLs point at Zalo's CDN; here a small server plays the CDN. */
async function startPhotoServer(bytes: Buffer): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn/photo.jpg`, hits: () => hits };
}

const matches = (text: string, label: string | RegExp) => (typeof label === 'string' ? text.includes(label) : label.test(text));

// --- Telegram ---------------------------------------------------------------

interface Button {
  text: string;
  callback_data: string;
}
interface TgTurn {
  calls: RecordedCall[];
  text: string;
}
const tgTo = (chatId: number) => (c: RecordedCall) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && String(c.body.chat_id) === String(chatId);
const tgText = (c: RecordedCall) => String(c.body.text ?? c.body.caption ?? '');
const keyboardOf = (c: RecordedCall): Button[] => (c.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard?.flat() ?? [];

/** A Telegram user in a private chat (polling): each action resolves once the update is handled. */
function telegramUser(tg: FakeTelegram, userId: number, who: { firstName?: string; lastName?: string; username?: string } = {}) {
  const from = { userId, firstName: 'Lan', languageCode: 'vi', ...who };
  async function send(update: Update): Promise<TgTurn> {
    const since = tg.calls.length;
    await tg.pushUpdate(update);
    // grammY confirms an update (the next getUpdates offset) only after its replies are sent.
    await vi.waitFor(
      () => {
        if (tg.pendingUpdates.some((u) => u.update_id === update.update_id)) throw new Error(`update not handled yet\n${tg.describeRecent()}`);
      },
      { timeout: WAIT, interval: 5 },
    );
    const calls = tg.calls.slice(since).filter(tgTo(userId));
    return { calls, text: calls.map(tgText).join('\n---\n') };
  }
  /** The newest message in this chat with a button labelled `label`. */
  function find(label: string | RegExp) {
    const mine = tg.calls.filter(tgTo(userId)).reverse();
    for (const call of mine) {
      const buttons = keyboardOf(call);
      const index = buttons.findIndex((b) => matches(b.text, label));
      if (index >= 0) return { call, index, button: buttons[index]! };
    }
    const last = mine.find((c) => keyboardOf(c).length);
    throw new Error(`no button ${label} in chat ${userId}; last buttons: ${last ? keyboardOf(last).map((b) => b.text).join(' | ') : 'none'}`);
  }
  const user = {
    userId,
    command: (text: string) => send(tg.userCommand({ ...from, text })),
    type: (text: string) => send(tg.userMessage({ ...from, text })),
    press(label: string | RegExp) {
      const { call, button } = find(label);
      return send(tg.callbackQuery({ ...from, data: button.callback_data, messageId: (call.result as { message_id: number }).message_id }));
    },
    /** Types the number the buttons give to `label`, as on Zalo. */
    typeNumberOf: (label: string | RegExp) => user.type(String(find(label).index + 1)),
    photo: (fileId: string, caption?: string) => send(tg.userPhoto({ ...from, fileId, caption })),
    location: (latitude: number, longitude: number) => send(tg.userLocation({ ...from, latitude, longitude })),
    buttons: (label: string | RegExp) => keyboardOf(find(label).call),
    waitFor: (pattern: RegExp, since = 0) => tg.waitForText(userId, pattern, WAIT, { since }),
  };
  return user;
}

/** Joining may ask first whether the group's leaders may see the member's name: keep it private. */
const SHARE_ASK = /thấy tên hiển thị của bạn|see your display name/;
const JOINED = /Bạn đã tham gia Tổ dân phố số 1|You have joined Tổ dân phố số 1/;
const KEEP_PRIVATE = '🕶';

async function onboardTelegram(tg: FakeTelegram, userId: number, who: { firstName?: string; lastName?: string; username?: string } = {}) {
  const user = telegramUser(tg, userId, who);
  await user.command('/start');
  await user.type('1'); // Tiếng Việt
  await user.type('1'); // Tôi đồng ý
  await user.type('2'); // Nhập mã mời
  let turn = await user.type('KMA234');
  if (!JOINED.test(turn.text) && SHARE_ASK.test(turn.text)) turn = await user.typeNumberOf(KEEP_PRIVATE);
  expect(turn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);
  return user;
}

// --- Zalo -------------------------------------------------------------------

interface ZaloTurn {
  calls: FakeZaloCall[];
  text: string;
}
const zaloTo = (chatId: string) => (c: FakeZaloCall) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.body.chat_id === chatId;
const zaloText = (c: FakeZaloCall) => String(c.body.text ?? c.body.caption ?? '');
const numberedItems = (text: string): Array<[number, string]> => [...text.matchAll(/^(\d+)\. (.+)$/gm)].map((m) => [Number(m[1]), m[2]!]);

/** Polling: handled once nothing is queued and the bot waits in getUpdates again (it polls only after replying). */
async function zaloSettled(zalo: FakeZalo): Promise<void> {
  await vi.waitFor(
    () => {
      if (zalo.pendingUpdates > 0 || zalo.waitingPolls === 0) throw new Error('Zalo update not handled yet');
    },
    { timeout: WAIT, interval: 5 },
  );
}

/** A Zalo user. `deliver` is how an update reaches the bot (polling by default); webhook users give `expect` per turn. */
function zaloUser(zalo: FakeZalo, id: string, name: string, webhook?: { url: string; secret: string }) {
  let seq = 0;
  const message = (extra: Record<string, unknown>) => ({
    from: { id, display_name: name, is_bot: false },
    chat: { id, chat_type: 'PRIVATE' },
    message_id: `${id}-m${++seq}`,
    date: Date.now(),
    ...extra,
  });
  async function send(update: unknown, expectLast?: RegExp): Promise<ZaloTurn> {
    const since = zalo.sent.length;
    if (webhook) {
      const answer = await postToWebhook(webhook.url, webhook.secret, update);
      expect(answer.status).toBe(200);
      if (!expectLast) throw new Error('a webhook turn needs the reply to wait for');
      await zalo.waitFor((c) => zalo.sent.indexOf(c) >= since && zaloTo(id)(c) && expectLast.test(zaloText(c)), WAIT);
    } else {
      zalo.pushUpdate(update);
      await zaloSettled(zalo);
    }
    const calls = zalo.sent.slice(since).filter(zaloTo(id));
    return { calls, text: calls.map(zaloText).join('\n---\n') };
  }
  /** The number of `label` in the newest numbered list that has it. */
  function numberOf(label: string | RegExp): number {
    for (const call of zalo.sent.filter(zaloTo(id)).reverse()) {
      const item = numberedItems(zaloText(call)).find(([, l]) => matches(l, label));
      if (item) return item[0];
    }
    throw new Error(`no item ${label} in any list sent to ${id}`);
  }
  const user = {
    id,
    type: (text: string, expectLast?: RegExp) => send({ event_name: 'message.text.received', message: message({ text }) }, expectLast),
    choose: (label: string | RegExp, expectLast?: RegExp) => user.type(String(numberOf(label)), expectLast),
    photo: (url: string, expectLast?: RegExp) => send({ event_name: 'message.image.received', message: message({ photo_url: url }) }, expectLast),
    numberOf,
    waitFor: (pattern: RegExp, since = 0) => zalo.waitFor((c) => zalo.sent.indexOf(c) >= since && zaloTo(id)(c) && pattern.test(zaloText(c)), WAIT),
  };
  return user;
}

async function onboardZalo(zalo: FakeZalo, id: string, name: string, locale: 'vi' | 'en' = 'vi', webhook?: { url: string; secret: string }) {
  const user = zaloUser(zalo, id, name, webhook);
  const menu = /What would you like to do|Bạn muốn làm gì/;
  await user.type('/start', /Which language|ngôn ngữ nào/);
  await user.type(locale === 'vi' ? '1' : '2', /automated|tự động/);
  await user.type('1', /residential group do you live in|tổ dân phố \/ khu dân cư nào/);
  await user.type('2', /invite code|mã mời/);
  let turn = await user.type('KMA234', new RegExp(`${menu.source}|${SHARE_ASK.source}`));
  if (!JOINED.test(turn.text) && SHARE_ASK.test(turn.text)) turn = await user.choose(KEEP_PRIVATE, menu);
  expect(turn.text).toMatch(locale === 'vi' ? /Bạn đã tham gia Tổ dân phố số 1/ : /You have joined Tổ dân phố số 1/);
  return user;
}

function refOf(text: string): string {
  const ref = /PA-[A-Z0-9]+/.exec(text)?.[0];
  if (!ref) throw new Error(`no reference in: ${text}`);
  expect(ref).toMatch(REF);
  return ref;
}

/** Waits until typing a number answers this notification (the worker offers its choices once it is delivered). */
async function offered(t: TestApp, channel: string, externalId: string, choiceId: string): Promise<void> {
  const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId } } });
  await vi.waitFor(
    async () => {
      const conversation = await t.app.db.conversation.findUnique({ where: { accountId: account.id } });
      const choices = JSON.parse(conversation?.choices ?? '[]') as string[];
      if (!choices.includes(choiceId)) throw new Error(`${choiceId} not offered yet (${choices.join(', ')})`);
    },
    { timeout: WAIT, interval: 10 },
  );
}

/** Downloads, through the fake Bot API, the file Telegram kept from an uploaded photo. */
async function uploadedBytes(tg: FakeTelegram, call: RecordedCall): Promise<Buffer> {
  const sizes = (call.result as { photo: { file_id: string }[] }).photo;
  const res = await fetch(`${tg.apiRoot}/bot${tg.token}/getFile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file_id: sizes[sizes.length - 1]!.file_id }),
  });
  const file = ((await res.json()) as { result: { file_path: string } }).result;
  return Buffer.from(await (await fetch(`${tg.apiRoot}/file/bot${tg.token}/${file.file_path}`)).arrayBuffer());
}

describe('a case across channels: Zalo reporter, Telegram ward officer', () => {
  it('notification with Open, acknowledge, question and answer, resolve, not fixed back in the queue, resolve, fixed closes; the photo arrives as an upload', async () => {
    const { tg, zalo, t } = await startWorld();
    const jpeg = distinctJpeg('zalo-reporter-photo-for-telegram');
    const cdn = await startPhotoServer(jpeg);

    // The officer is no group member: /start, language, privacy, "later"; then the ward officer role.
    const officer = telegramUser(tg, 7_100_001, { firstName: 'Đại úy', lastName: 'Phường Kim Mã' });
    await officer.command('/start');
    await officer.type('1');
    await officer.type('1');
    expect((await officer.type('3')).text).toMatch(/Bạn có thể chọn tổ dân phố sau/);
    await makeOfficer(t.app, (await personOf(t.app, 'telegram', '7100001')).id, 'HN-BD-KM');

    // The resident reports on Zalo, anonymously, security (so the ward police get it at once), with a photo.
    const rep = await onboardZalo(zalo, 'zalo-rep-71', 'Ngô Thị Mai');
    await rep.type('/report');
    await rep.choose('Không');
    await rep.choose('An ninh');
    await rep.type('Có người lạ đi thử tay nắm cửa ô tô dọc ngõ 5');
    expect((await rep.photo(cdn.url)).text).toMatch(/Đã nhận ảnh/);
    await rep.type('Ngõ 5 Núi Trúc');
    await rep.choose('Ẩn danh');
    let zturn = await rep.choose('Gửi phản ánh');
    expect(zturn.text).toMatch(/Tổ trưởng Tổ dân phố số 1 và công an phường sẽ tiếp nhận và xử lý/);
    const ref = refOf(zturn.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    const alias = `Người phản ánh #${c.alias}`;

    // The officer's notification: the photo uploaded to Telegram, the case as caption, an Open button.
    const note = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(note.method).toBe('sendPhoto');
    expect(note.body.photo).toEqual({ filename: 'photo.jpg', size: jpeg.length });
    expect((await uploadedBytes(tg, note)).equals(jpeg)).toBe(true);
    expect(tgText(note)).toContain(`Người phản ánh: ${alias}`);
    expect(tgText(note)).toMatch(/Địa điểm: Ngõ 5 Núi Trúc/);
    expect(keyboardOf(note)).toEqual([{ text: `Mở ${ref}`, callback_data: `c:${c.id}:open` }]);

    // Open from the notification.
    let turn = await officer.press(`Mở ${ref}`);
    expect(turn.text).toMatch(new RegExp(`📋 ${ref} — 🛡 An ninh, trật tự, tội phạm\\nTrạng thái: mới · Cấp xử lý: tổ dân phố\\nNgười phản ánh: ${alias}`));
    expect(officer.buttons('Tiếp nhận').map((b) => b.text)).toEqual([
      '👍 Tiếp nhận',
      '❓ Hỏi / trả lời người phản ánh',
      '🔒 Ghi chú nội bộ',
      '✅ Đã xử lý xong',
      '🔁 Đánh dấu trùng',
      '⬆️ Chuyển cấp trên',
      '⬅️ Danh sách',
    ]);

    // Acknowledge: the reporter hears of it on Zalo.
    let since = zalo.sent.length;
    turn = await officer.press('Tiếp nhận');
    expect(turn.text).toMatch(new RegExp(`Đã tiếp nhận ${ref}\\. Người phản ánh đã được báo\\.`));
    await rep.waitFor(new RegExp(`Phản ánh ${ref} của bạn đã được tiếp nhận`), since);

    // A question: the reporter answers by typing 1, then the text.
    turn = await officer.press('Hỏi');
    expect(turn.text).toMatch(new RegExp(`Gõ câu hỏi hoặc câu trả lời gửi tới người phản ánh ${ref}`));
    turn = await officer.type('Người đó mặc áo màu gì?');
    expect(turn.text).toMatch(/Đã gửi tới người phản ánh/);
    const question = await rep.waitFor(/"Người đó mặc áo màu gì\?"/, since);
    expect(zaloText(question)).toMatch(/Bấm Trả lời \(hoặc gõ số 1\) để trả lời\.\n\nGõ số thứ tự để chọn:\n1\. ✍️ Trả lời$/);
    await offered(t, 'zalo', rep.id, `c:${c.id}:reply`);
    zturn = await rep.type('1');
    expect(zturn.text).toMatch(new RegExp(`Gõ thông tin bổ sung cho ${ref}`));
    const tgSince = tg.calls.length;
    zturn = await rep.type('Áo khoác xám, đi xe Wave màu đỏ');
    expect(zturn.text).toMatch(/Đã gửi thông tin bổ sung/);
    const answer = await officer.waitFor(/Áo khoác xám, đi xe Wave màu đỏ/, tgSince);
    expect(tgText(answer)).toBe(`💬 ${alias} nhắn về ${ref}:\n"Áo khoác xám, đi xe Wave màu đỏ"`);

    // Resolve; the reporter says "not fixed" by typing its number.
    since = zalo.sent.length;
    turn = await officer.press('Đã xử lý xong');
    expect(turn.text).toMatch(/Gõ kết quả xử lý/);
    turn = await officer.type('Đã tuần tra và nhắc nhở');
    expect(turn.text).toMatch(new RegExp(`Đã đánh dấu ${ref} là đã xử lý`));
    const resolved = await rep.waitFor(/đã được xử lý:\n"Đã tuần tra và nhắc nhở"/, since);
    expect(zaloText(resolved)).toMatch(/\n1\. 👍 Đã ổn\n2\. 👎 Chưa ổn$/);
    await offered(t, 'zalo', rep.id, `c:${c.id}:notfixed`);
    const beforeNotFixed = tg.calls.length;
    zturn = await rep.type(String(rep.numberOf('Chưa ổn')));
    expect(zturn.text).toMatch(new RegExp(`Đã ghi nhận\\. Phản ánh ${ref} đã được chuyển lại cho người xử lý\\.`));
    await officer.waitFor(new RegExp(`Người phản ánh cho biết ${ref} CHƯA được giải quyết`), beforeNotFixed);

    // Back in the queue, with the event recorded.
    let stored = await t.app.db.case.findUniqueOrThrow({ where: { ref }, include: { events: { orderBy: { createdAt: 'asc' } } } });
    expect(stored.status).toBe('reopened');
    expect(stored.events.map((e) => e.type)).toEqual(['created', 'acknowledged', 'asked', 'reporter_message', 'resolved', 'closed_not_fixed']);
    turn = await officer.command('/cases');
    expect(turn.text).toMatch(/Phản ánh đang mở \(1\)/);
    expect(officer.buttons(ref)[0]!.text).toBe(`${ref} · 🛡 An ninh, trật tự, tội phạm · mở lại`);
    turn = await officer.press(ref);
    expect(turn.text).toMatch(/Trạng thái: mở lại/);
    expect(turn.text).toContain(`• ${alias}: Áo khoác xám, đi xe Wave màu đỏ`);

    // Resolve again; "fixed" closes it.
    since = zalo.sent.length;
    await officer.press('Đã xử lý xong');
    await officer.type('Đã bắt giữ đối tượng');
    await rep.waitFor(/đã được xử lý:\n"Đã bắt giữ đối tượng"/, since);
    await offered(t, 'zalo', rep.id, `c:${c.id}:fixed`);
    zturn = await rep.type(String(rep.numberOf('Đã ổn')));
    expect(zturn.text).toMatch(new RegExp(`Cảm ơn bạn! Phản ánh ${ref} đã đóng\\.`));
    stored = await t.app.db.case.findUniqueOrThrow({ where: { ref }, include: { events: { orderBy: { createdAt: 'asc' } } } });
    expect(stored.status).toBe('closed');
    expect(stored.events.map((e) => e.type)).toEqual(['created', 'acknowledged', 'asked', 'reporter_message', 'resolved', 'closed_not_fixed', 'resolved', 'closed']);

    // The queue is empty; the reporter's list shows the status.
    expect((await officer.command('/cases')).text).toMatch(/Hiện không có phản ánh nào đang chờ xử lý/);
    zturn = await rep.type('/myreports');
    expect(zturn.text).toContain(`${ref} · 🛡 An ninh, trật tự, tội phạm · đã đóng`);

    // Nothing the officer received names the anonymous reporter.
    const toOfficer = tg.calls.filter((call) => String(call.body.chat_id) === '7100001').map((call) => JSON.stringify(call.body));
    for (const body of toOfficer) {
      expect(body).not.toContain('Ngô Thị Mai');
      expect(body).not.toContain('zalo-rep-71');
    }
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});
