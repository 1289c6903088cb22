/**
 * The guided report end to end on Telegram (buttons and numbers, a shared location, a photo
 * by file id) and on Zalo (numbers only, a photo by URL, a place typed in words), against the
 * fake platforms: emergency numbers first, refusals, preview edits, the reference code, who
 * gets it, the photo on every handler channel, a draft kept across /menu and a restart.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, TINY_JPEG, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, postToWebhook, type FakeZalo, type FakeZaloCall } from '../fakes/fake-zalo-server.js';
import { startTestApp, tempDir, type TestApp } from '../helpers/test-app.js';
import { createWebClient, type WebReply } from '../helpers/web-client.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_report_flow';
const PUBLIC_URL = 'https://bot.example.org';
const ZALO_SECRET = 'zalo-webhook-secret_report_0123';
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

// --- Web --------------------------------------------------------------------

/** A web chat user; every message the session ever received is read from the inbox table. */
function webUser(t: TestApp) {
  const client = createWebClient(t.baseUrl);
  async function all(): Promise<WebReply[]> {
    const rows = await t.app.db.webMessage.findMany({ where: { session: client.session }, orderBy: { seq: 'asc' } });
    return rows.map((r) => ({ seq: r.seq, ...(JSON.parse(r.payload) as Omit<WebReply, 'seq'>) }));
  }
  return {
    client,
    session: client.session,
    say: (text: string) => client.say(text),
    all,
    async waitFor(pattern: RegExp, sinceSeq = 0): Promise<WebReply> {
      return vi.waitFor(
        async () => {
          const hit = (await all()).find((m) => m.seq > sinceSeq && pattern.test(m.text));
          if (!hit) throw new Error(`no web message matching ${pattern}`);
          return hit;
        },
        { timeout: WAIT, interval: 20 },
      );
    },
  };
}

async function onboardWeb(t: TestApp) {
  const user = webUser(t);
  await user.say('/start');
  await user.say('1');
  await user.say('1');
  await user.say('2');
  let joined = await user.say('KMA234');
  const joinedText = joined.map((m) => m.text).join('\n');
  if (!JOINED.test(joinedText) && SHARE_ASK.test(joinedText)) joined = await user.client.pick(joined, KEEP_PRIVATE);
  expect(joined.map((m) => m.text).join('\n')).toMatch(/Bạn đã tham gia/);
  return user;
}

function refOf(text: string): string {
  const ref = /PA-[A-Z0-9]+/.exec(text)?.[0];
  if (!ref) throw new Error(`no reference in: ${text}`);
  expect(ref).toMatch(REF);
  return ref;
}

async function mediaBytes(t: TestApp, mediaPath: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(`${t.baseUrl}${mediaPath}`);
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('report flow on Telegram', () => {
  it('emergency numbers first, refusals, photo by file id, shared location, preview edit, confirm by number; the photo reaches every handler channel', async () => {
    const { tg, zalo, t } = await startWorld();
    const leader = await onboardTelegram(tg, 6_100_001, { firstName: 'Tổ trưởng' });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '6100001')).id, 'HN-BD-KM-01');
    const deputy = await onboardWeb(t);
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, 'HN-BD-KM-01', 'deputy');
    const officer = await onboardZalo(zalo, 'zalo-officer-61', 'Cán bộ Phường');
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-61')).id, 'HN-BD-KM');
    const rep = await onboardTelegram(tg, 6_100_002, { firstName: 'Hà' });

    // The emergency question comes first, before anything else.
    let turn = await rep.command('/report');
    expect(turn.calls).toHaveLength(1);
    expect(turn.text).toMatch(/^Có ai đang gặp nguy hiểm ngay lúc này không\?$/);
    expect(rep.buttons('nguy hiểm').map((b) => b.text)).toEqual(['🚨 Có, đang nguy hiểm', 'Không']);

    // "Danger now": 113/114/115 at once, in their own message, before the next question.
    turn = await rep.press('Có, đang nguy hiểm');
    expect(turn.calls.map((c) => c.method)).toEqual(['sendMessage', 'sendMessage']);
    expect(tgText(turn.calls[0]!)).toMatch(/113 — Công an\n• 114 — Cứu hỏa, cứu nạn\n• 115 — Cấp cứu/);
    expect(tgText(turn.calls[1]!)).toMatch(/^Sự việc thuộc loại nào\?/);

    // Category by typing its number.
    turn = await rep.typeNumberOf('Cháy, nổ');
    expect(turn.text).toMatch(/Bạn hãy mô tả sự việc.*tối đa 2000 ký tự/);

    // Empty and too long descriptions are refused in Vietnamese and the question is asked again.
    turn = await rep.type('   ');
    expect(turn.text).toMatch(/Tin nhắn đang trống\. Bạn hãy gõ nội dung\.\n---\nBạn hãy mô tả sự việc/);
    turn = await rep.type('x'.repeat(2001));
    expect(turn.text).toMatch(/Tin nhắn quá dài \(2001 ký tự\)\. Bạn hãy viết ngắn hơn 2000 ký tự\.\n---\nBạn hãy mô tả sự việc/);
    turn = await rep.type('Khói bốc lên từ tầng 2 nhà số 9');
    expect(turn.text).toMatch(/Bạn có ảnh chụp sự việc không/);

    // A photo by file id: the service downloads it through getFile.
    turn = await rep.photo('AgACAgIAAxkBAAIreportphoto');
    expect(turn.text).toMatch(/Đã nhận ảnh\.\n---\nSự việc ở đâu\?/);
    expect(tg.calls.some((c) => c.method === 'getFile' && c.body.file_id === 'AgACAgIAAxkBAAIreportphoto')).toBe(true);

    // A shared location.
    turn = await rep.location(21.0312, 105.8201);
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await rep.press('Ẩn danh');
    // The preview carries the photo, with the text as its caption and the buttons.
    expect(turn.calls.map((c) => c.method)).toEqual(['sendPhoto']);
    expect(turn.text).toMatch(/^Xem lại phản ánh:\n• Loại: 🔥 Cháy, nổ\n• Tổ dân phố: Tổ dân phố số 1 \(Phường Kim Mã\)\n• Mô tả: Khói bốc lên từ tầng 2 nhà số 9\n• Ảnh: có\n• Vị trí: vị trí đã gửi \(21\.03120, 105\.82010\)\n• Gửi: ẩn danh\n• 🚨 Đang có nguy hiểm$/);

    // Edit the description from the preview: back to the preview with the new text.
    turn = await rep.press('Sửa mô tả');
    expect(turn.text).toMatch(/Bạn hãy mô tả sự việc/);
    turn = await rep.type('Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét');
    expect(turn.text).toMatch(/• Mô tả: Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét\n/);
    expect(turn.text).not.toMatch(/Khói bốc lên/);

    // Confirm by number.
    turn = await rep.typeNumberOf('Gửi phản ánh');
    expect(turn.text).toMatch(/✅ Đã gửi phản ánh\. Mã của bạn: PA-\w+\nTổ trưởng Tổ dân phố số 1 và công an phường sẽ tiếp nhận và xử lý\./);
    const ref = refOf(turn.text);

    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    expect(c).toMatchObject({ category: 'fire', urgent: true, anonymous: true, latitude: 21.0312, longitude: 105.8201, placeText: null, description: 'Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét' });
    expect(c.photoMediaId).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Telegram leader: the photo uploaded, the case as caption, an Open button.
    const toLeader = await leader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toLeader.method).toBe('sendPhoto');
    expect(toLeader.body.photo).toEqual({ filename: 'photo.jpg', size: TINY_JPEG.length });
    expect(tgText(toLeader)).toMatch(/🔥 Cháy, nổ 🚨 KHẨN/);
    expect(tgText(toLeader)).toMatch(/Người phản ánh: Người phản ánh #[A-HJ-KMNP-Z2-9]{4}/);
    expect(tgText(toLeader)).toMatch(/Vị trí: 21\.03120, 105\.82010/);
    expect(keyboardOf(toLeader)).toEqual([{ text: `Mở ${ref}`, callback_data: `c:${c.id}:open` }]);

    // Web deputy: the photo from this server's /media path.
    const toDeputy = await deputy.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toDeputy.photo?.url).toBe(`/media/${c.photoMediaId}`);
    const served = await mediaBytes(t, toDeputy.photo!.url!);
    expect(served.status).toBe(200);
    expect(served.type).toBe('image/jpeg');
    expect(served.bytes.equals(TINY_JPEG)).toBe(true);

    // Zalo officer (urgent, so the ward police at once), no PUBLIC_URL: told the photo is on the web.
    const toOfficer = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toOfficer.method).toBe('sendMessage');
    expect(zaloText(toOfficer)).toMatch(/\(Có ảnh đính kèm: mở trang web của hệ thống để xem\)/);
    expect(zalo.sent.some((s) => s.method === 'sendPhoto')).toBe(false);

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});

describe('report flow on Zalo', () => {
  it('numbers only, in English: emergency numbers first, refusals, photo by URL, typed place, named, preview edit; the photo reaches Telegram as an upload', async () => {
    const { tg, zalo, t } = await startWorld();
    const jpeg = distinctJpeg('zalo-report-photo');
    const cdn = await startPhotoServer(jpeg);
    const leader = await onboardTelegram(tg, 6_200_001);
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '6200001')).id, 'HN-BD-KM-01');
    const deputy = await onboardWeb(t);
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, 'HN-BD-KM-01', 'deputy');
    const officer = await onboardZalo(zalo, 'zalo-officer-62', 'Cán bộ Phường');
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-62')).id, 'HN-BD-KM');
    const rep = await onboardZalo(zalo, 'zalo-resident-62', 'Trần Thị Bình', 'en');

    let turn = await rep.type('/report');
    expect(turn.calls).toHaveLength(1);
    expect(turn.text).toBe('Is anyone in danger right now?\n\nType a number to choose:\n1. 🚨 Yes, danger now\n2. No');

    turn = await rep.type('1');
    expect(turn.calls).toHaveLength(2);
    expect(zaloText(turn.calls[0]!)).toMatch(/^🚨 Call now:\n• 113 — Police\n• 114 — Fire and rescue\n• 115 — Ambulance/);
    expect(zaloText(turn.calls[1]!)).toMatch(/^What kind of incident is it\?/);

    turn = await rep.choose('Security');
    expect(turn.text).toMatch(/Please describe what happened, where and when \(at most 2000 characters\)\./);

    turn = await rep.type('   ');
    expect(turn.text).toMatch(/^The message is empty\. Please type something\.\n---\nPlease describe what happened/);
    turn = await rep.type('y'.repeat(2001));
    expect(turn.text).toMatch(/^That message is too long \(2001 characters\)\. Please keep it under 2000 characters\.\n---\nPlease describe what happened/);
    turn = await rep.type('A man is trying car door handles along lane 5');
    expect(turn.text).toMatch(/Do you have a photo of it\?/);

    turn = await rep.photo(cdn.url);
    expect(turn.text).toMatch(/^Photo received\.\n---\nWhere is it\?/);
    expect(cdn.hits()).toBe(1);

    turn = await rep.type('Lane 5, Núi Trúc street, next to the pharmacy');
    expect(turn.text).toMatch(/anonymously or with your name/);
    turn = await rep.choose('With my name');
    expect(turn.text).toMatch(
      /^Please check your report:\n• Kind: 🛡 Security, public order, crime\n• Residential group: Tổ dân phố số 1 \(Phường Kim Mã\)\n• Description: A man is trying car door handles along lane 5\n• Photo: yes\n• Location: Lane 5, Núi Trúc street, next to the pharmacy\n• Sent: with your name \(Trần Thị Bình\)\n• 🚨 Danger now/,
    );
    expect(turn.calls.map((c) => c.method)).toEqual(['sendMessage']); // no public URL: Zalo cannot show our stored copy

    turn = await rep.choose('Edit description');
    expect(turn.text).toMatch(/Please describe what happened/);
    turn = await rep.type('A man in a grey jacket is trying car door handles along lane 5');
    expect(turn.text).toMatch(/• Description: A man in a grey jacket is trying car door handles along lane 5\n/);

    turn = await rep.choose('Send report');
    expect(turn.text).toMatch(/✅ Report sent\. Your reference: PA-\w+\nThe leader of Tổ dân phố số 1 and the ward police will take it up\./);
    const ref = refOf(turn.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    expect(c).toMatchObject({ category: 'security', urgent: true, anonymous: false, latitude: null, longitude: null, placeText: 'Lane 5, Núi Trúc street, next to the pharmacy' });

    // The named reporter's display name is shown to handlers; the photo crosses to Telegram as an upload.
    const toLeader = await leader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toLeader.method).toBe('sendPhoto');
    expect(toLeader.body.photo).toEqual({ filename: 'photo.jpg', size: jpeg.length });
    expect(tgText(toLeader)).toMatch(/Người phản ánh: Trần Thị Bình/);
    expect(tgText(toLeader)).toMatch(/Địa điểm: Lane 5, Núi Trúc street/);
    const toDeputy = await deputy.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect((await mediaBytes(t, toDeputy.photo!.url!)).bytes.equals(jpeg)).toBe(true);
    const toOfficer = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(zaloText(toOfficer)).toMatch(/Người phản ánh: Trần Thị Bình/);
    expect(zaloText(toOfficer)).toMatch(/Có ảnh đính kèm: mở trang web/);

    for (const call of zalo.sent) expect(zaloText(call).length).toBeLessThanOrEqual(2000);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);

  it('with PUBLIC_URL a Zalo handler gets the photo by sendPhoto from /media/<token>, which the service serves', async () => {
    const zalo = await startFakeZalo();
    cleanups.push(() => zalo.close());
    const t = await startTestApp({ env: { ZALO_BOT_TOKEN: zalo.token, ZALO_API_ROOT: zalo.apiRoot, PUBLIC_URL, ZALO_WEBHOOK_SECRET: ZALO_SECRET } });
    cleanups.push(() => t.dispose());
    expect(t.app.zalo!.mode).toBe('webhook');
    const hook = { url: `${t.baseUrl}/webhooks/zalo`, secret: ZALO_SECRET };
    const jpeg = distinctJpeg('zalo-public-url-photo');
    const cdn = await startPhotoServer(jpeg);

    const officer = await onboardZalo(zalo, 'zalo-officer-63', 'Cán bộ Phường', 'vi', hook);
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-63')).id, 'HN-BD-KM');
    const rep = await onboardZalo(zalo, 'zalo-resident-63', 'Lê Văn Cường', 'vi', hook);

    await rep.type('/report', /Có ai đang gặp nguy hiểm/);
    await rep.choose('Không', /Sự việc thuộc loại nào/);
    await rep.choose('An ninh', /Bạn hãy mô tả/);
    await rep.type('Có người lạ cạy khóa xe máy trong ngõ 3', /ảnh chụp/);
    await rep.photo(cdn.url, /Sự việc ở đâu/);
    await rep.choose('Bỏ qua', /ẩn danh hay kèm tên/);
    await rep.choose('Ẩn danh', /Xem lại phản ánh/);
    const sent = await rep.choose('Gửi phản ánh', /Đã gửi phản ánh/);
    const ref = refOf(sent.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });

    const photoUrl = `${PUBLIC_URL}/media/${c.photoMediaId}`;
    const toOfficer = await zalo.waitFor((s) => s.method === 'sendPhoto' && s.body.chat_id === officer.id, WAIT);
    expect(toOfficer.body.photo).toBe(photoUrl);
    expect(zaloText(toOfficer)).toMatch(new RegExp(`Phản ánh mới ${ref}`));
    expect(zaloText(toOfficer)).toContain(`(Có ảnh đính kèm: ${photoUrl})`);

    // What Zalo would fetch from PUBLIC_URL is served by the service itself.
    const served = await mediaBytes(t, `/media/${c.photoMediaId}`);
    expect(served.status).toBe(200);
    expect(served.type).toBe('image/jpeg');
    expect(served.bytes.equals(jpeg)).toBe(true);
    expect((await mediaBytes(t, `/media/${'x'.repeat(32)}`)).status).toBe(404);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});

describe('report drafts are not lost', () => {
  it('an interruption by /menu or /help is offered back by the menu button and by /resume, at the same step, on Telegram and Zalo', async () => {
    const { tg, zalo, t } = await startWorld();
    const tgRep = await onboardTelegram(tg, 6_300_001);
    const zaloRep = await onboardZalo(zalo, 'zalo-resident-64', 'Phạm Thu Hằng');

    // Telegram: /menu in the photo step; the menu offers the draft back first.
    await tgRep.command('/report');
    await tgRep.press('Không');
    await tgRep.press('Giao thông');
    let turn: { text: string } = await tgRep.type('Đèn tín hiệu ngã tư hỏng từ sáng');
    expect(turn.text).toMatch(/ảnh chụp/);
    turn = await tgRep.command('/menu');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc\. Gõ \/resume để tiếp tục\./);
    expect(tgRep.buttons('Tiếp tục')[0]!.text).toBe('▶️ Tiếp tục phản ánh sự việc đang làm dở');
    turn = await tgRep.press('Tiếp tục phản ánh');
    expect(turn.text).toMatch(/^Bạn có ảnh chụp sự việc không/);
    turn = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc ở đâu/);
    // /help in the location step, then /resume.
    turn = await tgRep.command('/help');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc/);
    turn = await tgRep.command('/resume');
    expect(turn.text).toMatch(/^Sự việc ở đâu/);
    await tgRep.type('Ngã tư Kim Mã - Núi Trúc');
    turn = await tgRep.press('Ẩn danh');
    expect(turn.text).toMatch(/• Loại: 🚦 Giao thông\n.*\n• Mô tả: Đèn tín hiệu ngã tư hỏng từ sáng\n• Ảnh: không có\n• Vị trí: Ngã tư Kim Mã - Núi Trúc\n/);
    turn = await tgRep.press('Gửi phản ánh');
    const tgRef = refOf(turn.text);

    // Zalo: /menu in the photo step, then /resume by typing; skip typed as a word.
    await zaloRep.type('/report');
    await zaloRep.choose('Không');
    await zaloRep.choose('tiếng ồn');
    await zaloRep.type('Loa kẹo kéo hát đến 1 giờ sáng');
    turn = await zaloRep.type('/menu');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc\. Gõ \/resume để tiếp tục\./);
    expect(turn.text).toMatch(/\n1\. ▶️ Tiếp tục phản ánh sự việc đang làm dở\n/);
    turn = await zaloRep.type('/resume');
    expect(turn.text).toMatch(/^Bạn có ảnh chụp sự việc không/);
    turn = await zaloRep.choose('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc ở đâu/);
    turn = await zaloRep.type('/menu');
    turn = await zaloRep.choose('Tiếp tục phản ánh'); // the menu item, by number
    expect(turn.text).toMatch(/^Sự việc ở đâu/);
    turn = await zaloRep.type('bỏ qua');
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await zaloRep.choose('Kèm tên');
    expect(turn.text).toMatch(/• Mô tả: Loa kẹo kéo hát đến 1 giờ sáng\n• Ảnh: không có\n• Vị trí: không có\n• Gửi: kèm tên \(Phạm Thu Hằng\)/);
    turn = await zaloRep.choose('Gửi phản ánh');
    expect(turn.text).toMatch(/Tổ trưởng và tổ phó Tổ dân phố số 1 sẽ tiếp nhận/);
    const zaloRef = refOf(turn.text);

    const cases = await t.app.db.case.findMany({ orderBy: { createdAt: 'asc' } });
    expect(cases.map((c) => [c.ref, c.category, c.description])).toEqual([
      [tgRef, 'traffic', 'Đèn tín hiệu ngã tư hỏng từ sáng'],
      [zaloRef, 'order', 'Loa kẹo kéo hát đến 1 giờ sáng'],
    ]);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);

  it('a restart mid-draft resumes at the stored step on Telegram (old button) and Zalo (number from the old list)', async () => {
    const fakes = await startFakes();
    const { tg, zalo } = fakes;
    const dir = tempDir();
    cleanups.push(async () => {
      const { rmSync } = await import('node:fs');
      rmSync(dir, { recursive: true, force: true });
    });
    const first = await startApp(fakes, dir);
    const tgRep = await onboardTelegram(tg, 6_400_001);
    const zaloRep = await onboardZalo(zalo, 'zalo-resident-65', 'Đỗ Minh Khang');

    await tgRep.command('/report');
    await tgRep.press('Không');
    await tgRep.typeNumberOf('Hạ tầng');
    await tgRep.type('Cống bị tắc, nước tràn ra đường');
    let turn: { text: string } = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc ở đâu/);

    await zaloRep.type('/report');
    await zaloRep.choose('Không');
    await zaloRep.choose('Việc khác');
    turn = await zaloRep.type('Cây đổ chắn lối vào chợ');
    expect(turn.text).toMatch(/ảnh chụp/);

    await first.stop();
    const second = await startApp(fakes, dir);

    // Telegram: the Skip button on the location question sent before the restart.
    turn = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await tgRep.press('Ẩn danh');
    expect(turn.text).toMatch(/• Loại: 🏗 Hạ tầng, môi trường\n.*\n• Mô tả: Cống bị tắc, nước tràn ra đường\n/);
    turn = await tgRep.typeNumberOf('Gửi phản ánh');
    const tgRef = refOf(turn.text);

    // Zalo: "1" still means Skip from the photo question asked before the restart.
    turn = await zaloRep.type('1');
    expect(turn.text).toMatch(/^Sự việc ở đâu/);
    await zaloRep.type('Cổng chợ Kim Mã');
    await zaloRep.choose('Ẩn danh');
    turn = await zaloRep.choose('Gửi phản ánh');
    const zaloRef = refOf(turn.text);

    const cases = await second.app.db.case.findMany({ orderBy: { createdAt: 'asc' } });
    expect(cases.map((c) => [c.ref, c.category, c.description, c.placeText])).toEqual([
      [tgRef, 'infrastructure', 'Cống bị tắc, nước tràn ra đường', null],
      [zaloRef, 'other', 'Cây đổ chắn lối vào chợ', 'Cổng chợ Kim Mã'],
    ]);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});
