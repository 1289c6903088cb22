/**
 * Residential groups end to end, through the fake Bot API servers, the web chat and the real
 * database: joining by approval on Zalo answered by a leader on Telegram (and refused), several
 * groups, list and leave; a leader's tools on the web chat (counts per channel, requests,
 * members shown as numbers unless they share their name, deputies, removing, the invite code,
 * notices reaching members on all three channels); what deputies and plain members may not do;
 * and the audit log of every membership and role change.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import { startFakeZalo, type FakeZalo, type FakeZaloCall } from '../fakes/fake-zalo-server.js';
import { startTestApp, tempDir, type TestApp } from '../helpers/test-app.js';
import { createWebClient, findChoice, texts, type WebReply } from '../helpers/web-client.js';
import { memberAlias } from '../../src/core/services/group.service.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_groups_e2e';
const WAIT = 15_000;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

interface World {
  tg: FakeTelegram;
  zalo: FakeZalo;
  t: TestApp;
}

async function startWorld(): Promise<World> {
  const tg = await startFakeTelegram({ token: TELEGRAM_TOKEN });
  const zalo = await startFakeZalo();
  cleanups.push(async () => {
    await tg.close();
    await zalo.close();
  });
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const t = await startTestApp({
    dir,
    env: { TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, ZALO_BOT_TOKEN: zalo.token, ZALO_API_ROOT: zalo.apiRoot },
  });
  cleanups.push(() => t.stop());
  return { tg, zalo, t };
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

function telegramUser(tg: FakeTelegram, userId: number, who: { firstName?: string; lastName?: string; username?: string } = {}) {
  const from = { userId, firstName: 'Lan', languageCode: 'vi', ...who };
  async function send(update: Update): Promise<TgTurn> {
    const since = tg.calls.length;
    await tg.pushUpdate(update);
    await vi.waitFor(
      () => {
        if (tg.pendingUpdates.some((u) => u.update_id === update.update_id)) throw new Error(`update not handled yet\n${tg.describeRecent()}`);
      },
      { timeout: WAIT, interval: 5 },
    );
    const calls = tg.calls.slice(since).filter(tgTo(userId));
    return { calls, text: calls.map(tgText).join('\n---\n') };
  }
  function find(label: string | RegExp) {
    const mine = tg.calls.filter(tgTo(userId)).reverse();
    for (const call of mine) {
      const button = keyboardOf(call).find((b) => matches(b.text, label));
      if (button) return { call, button };
    }
    throw new Error(`no button ${label} in chat ${userId}`);
  }
  const user = {
    userId,
    command: (text: string) => send(tg.userCommand({ ...from, text })),
    type: (text: string) => send(tg.userMessage({ ...from, text })),
    press(label: string | RegExp) {
      const { call, button } = find(label);
      return send(tg.callbackQuery({ ...from, data: button.callback_data, messageId: (call.result as { message_id: number }).message_id }));
    },
    /** Presses a button of one particular message (a notification). */
    pressOn(call: RecordedCall, label: string | RegExp) {
      const button = keyboardOf(call).find((b) => matches(b.text, label));
      if (!button) throw new Error(`no button ${label} on "${tgText(call)}"`);
      return send(tg.callbackQuery({ ...from, data: button.callback_data, messageId: (call.result as { message_id: number }).message_id }));
    },
    /** Sends button data the bot never offered (a forged or stale button). */
    forge: (data: string) => send(tg.callbackQuery({ ...from, data })),
    buttons: (label: string | RegExp) => keyboardOf(find(label).call),
    waitFor: (pattern: RegExp, since = 0) => tg.waitForText(userId, pattern, WAIT, { since }),
  };
  return user;
}
type TgUser = ReturnType<typeof telegramUser>;

async function startTelegram(tg: FakeTelegram, userId: number, who: { firstName?: string; lastName?: string; username?: string } = {}): Promise<TgUser> {
  const user = telegramUser(tg, userId, who);
  await user.command('/start');
  await user.type('1'); // Tiếng Việt
  await user.type('1'); // Tôi đồng ý
  expect((await user.type('3')).text).toMatch(/Bạn có thể chọn tổ dân phố sau/); // Để sau
  return user;
}

// --- Zalo -------------------------------------------------------------------

const zaloTo = (chatId: string) => (c: FakeZaloCall) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.body.chat_id === chatId;
const zaloText = (c: FakeZaloCall) => String(c.body.text ?? c.body.caption ?? '');
const numberedItems = (text: string): Array<[number, string]> => [...text.matchAll(/^(\d+)\. (.+)$/gm)].map((m) => [Number(m[1]), m[2]!]);

async function zaloSettled(zalo: FakeZalo): Promise<void> {
  await vi.waitFor(
    () => {
      if (zalo.pendingUpdates > 0 || zalo.waitingPolls === 0) throw new Error('Zalo update not handled yet');
    },
    { timeout: WAIT, interval: 5 },
  );
}

function zaloUser(zalo: FakeZalo, id: string, name: string) {
  const message = (extra: Record<string, unknown>) => ({
    from: { id, display_name: name, is_bot: false },
    chat: { id, chat_type: 'PRIVATE' },
    message_id: randomUUID().replace(/-/g, ''),
    date: Date.now(),
    ...extra,
  });
  async function send(update: unknown): Promise<{ calls: FakeZaloCall[]; text: string }> {
    const since = zalo.sent.length;
    zalo.pushUpdate(update);
    await zaloSettled(zalo);
    const calls = zalo.sent.slice(since).filter(zaloTo(id));
    return { calls, text: calls.map(zaloText).join('\n---\n') };
  }
  function numberOf(label: string | RegExp): number {
    for (const call of zalo.sent.filter(zaloTo(id)).reverse()) {
      const item = numberedItems(zaloText(call)).find(([, l]) => matches(l, label));
      if (item) return item[0];
    }
    throw new Error(`no item ${label} in any list sent to ${id}`);
  }
  const user = {
    id,
    type: (text: string) => send({ event_name: 'message.text.received', message: message({ text }) }),
    choose: (label: string | RegExp) => user.type(String(numberOf(label))),
    waitFor: (pattern: RegExp, since = 0) => zalo.waitFor((c) => zalo.sent.indexOf(c) >= since && zaloTo(id)(c) && pattern.test(zaloText(c)), WAIT),
  };
  return user;
}
type ZaloUser = ReturnType<typeof zaloUser>;

/** /start on Zalo up to the "where do you live" question. */
async function startZalo(zalo: FakeZalo, id: string, name: string): Promise<ZaloUser> {
  const user = zaloUser(zalo, id, name);
  expect((await user.type('/start')).text).toMatch(/ngôn ngữ nào/);
  expect((await user.type('1')).text).toMatch(/tự động/);
  expect((await user.type('1')).text).toMatch(/Bạn sống ở tổ dân phố \/ khu dân cư nào\?/);
  return user;
}

// --- Web --------------------------------------------------------------------

/** A web chat user who keeps every message received, direct or from the outbox. */
function webUser(baseUrl: string) {
  const client = createWebClient(baseUrl);
  const log: WebReply[] = [];
  const record = (messages: WebReply[]) => {
    log.push(...messages);
    return messages;
  };
  const user = {
    session: client.session,
    log,
    say: async (text: string) => record(await client.say(text)),
    choose: async (id: string) => record(await client.choose(id)),
    /** Picks by label from these replies (the direct answer to the last action). */
    pick: async (replies: WebReply[], label: string | RegExp) => record(await client.choose(findChoice(replies, label).id)),
    /** Waits for a message (already received or still to come) matching `pattern`, from log index `since`. */
    async waitFor(pattern: RegExp, since = 0): Promise<WebReply> {
      return vi.waitFor(
        async () => {
          const hit = log.slice(since).find((m) => pattern.test(m.text));
          if (hit) return hit;
          record((await client.fetchNew()).messages);
          const late = log.slice(since).find((m) => pattern.test(m.text));
          if (!late) throw new Error(`no web message matching ${pattern}; got:\n${log.slice(since).map((m) => m.text).join('\n---\n')}`);
          return late;
        },
        { timeout: WAIT, interval: 20 },
      );
    },
  };
  return user;
}
type WebUser = ReturnType<typeof webUser>;

const labelsOf = (replies: WebReply[]) => [...replies].reverse().find((r) => r.choices?.length)?.choices?.flat().map((c) => c.label) ?? [];

// --- Database -----------------------------------------------------------------

async function personId(t: TestApp, channel: string, externalId: string): Promise<string> {
  return (await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId } } })).personId;
}

async function membershipOf(t: TestApp, groupCode: string, person: string) {
  const group = await t.app.db.group.findUniqueOrThrow({ where: { code: groupCode } });
  return t.app.db.membership.findUniqueOrThrow({ where: { groupId_personId: { groupId: group.id, personId: person } } });
}

const GROUP2 = 'Tổ dân phố số 2';
const REQUEST = (alias: string) => new RegExp(`^🙋 Thành viên #${alias} xin tham gia ${GROUP2}\\.`);

// ---------------------------------------------------------------------------

describe('groups: joining by approval across channels', () => {
  it('a Zalo request is approved by a Telegram leader with the button, another refused; several groups, list, leave; all in the audit log', async () => {
    const { tg, zalo, t } = await startWorld();
    const startedAt = new Date(Date.now() - 1000);
    const km2 = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-BD-KM-02' } });
    expect(km2).toMatchObject({ joinPolicy: 'approval', inviteCode: 'KMB567' });

    // The leader of HN-BD-KM-02 is on Telegram (appointed through the role service, as the admin CLI does).
    const leader = await startTelegram(tg, 7_200_001, { firstName: 'Tổ trưởng', lastName: 'Số 2' });
    const leaderId = await personId(t, 'telegram', '7200001');
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-BD-KM-02');

    // A resident on Zalo asks to join with the invite code, typed in lower case with a dash.
    const hung = await startZalo(zalo, 'zalo-hung-501', 'Phạm Văn Hùng');
    expect((await hung.choose('Nhập mã mời')).text).toMatch(/Bạn hãy gõ mã mời/);
    let zturn = await hung.type('kmb-567');
    expect(zturn.text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}\\. Tổ trưởng sẽ duyệt và tôi sẽ báo cho bạn\\.`));
    expect(zturn.text).toMatch(/chỉ thấy bạn là một mã số/);
    const hungId = await personId(t, 'zalo', 'zalo-hung-501');
    const hungRequest = await membershipOf(t, 'HN-BD-KM-02', hungId);
    expect(hungRequest.state).toBe('pending');

    // The leader's notification names a number, never the person; two buttons.
    const note = await leader.waitFor(REQUEST(memberAlias(hungRequest.id)));
    expect(tgText(note)).not.toContain('Hùng');
    expect(tgText(note)).not.toContain('zalo-hung-501');
    expect(keyboardOf(note)).toEqual([
      { text: '✅ Đồng ý', callback_data: `g:${hungRequest.id}:approve` },
      { text: '✖️ Từ chối', callback_data: `g:${hungRequest.id}:refuse` },
    ]);

    // Approve with the button; the resident hears it on Zalo.
    let zsince = zalo.sent.length;
    let turn = await leader.pressOn(note, 'Đồng ý');
    expect(turn.text).toBe(`Đã đồng ý cho thành viên tham gia ${GROUP2}.`);
    await hung.waitFor(new RegExp(`^✅ Yêu cầu tham gia ${GROUP2} của bạn đã được đồng ý\\.$`), zsince);
    expect((await membershipOf(t, 'HN-BD-KM-02', hungId)).state).toBe('active');
    // A second press changes nothing.
    turn = await leader.pressOn(note, 'Đồng ý');
    expect(turn.text).toBe('Yêu cầu này đã được xử lý trước đó.');

    // Another resident asks with /join; while waiting, /groups shows the request as pending; the leader refuses.
    const mai = await startZalo(zalo, 'zalo-mai-502', 'Ngô Thị Mai');
    const tgSince = tg.calls.length;
    zturn = await mai.type('/join KMB567');
    expect(zturn.text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    zturn = await mai.type('/groups');
    expect(zturn.text).toMatch(new RegExp(`\\d\\. ${GROUP2} \\(Phường Kim Mã\\) · chờ duyệt`));
    await mai.type('/menu');
    const maiId = await personId(t, 'zalo', 'zalo-mai-502');
    const maiRequest = await membershipOf(t, 'HN-BD-KM-02', maiId);
    const refuseNote = await leader.waitFor(REQUEST(memberAlias(maiRequest.id)), tgSince);
    zsince = zalo.sent.length;
    turn = await leader.pressOn(refuseNote, 'Từ chối');
    expect(turn.text).toBe(`Đã từ chối yêu cầu tham gia ${GROUP2}.`);
    await mai.waitFor(new RegExp(`Yêu cầu tham gia ${GROUP2} của bạn chưa được đồng ý`), zsince);
    expect((await membershipOf(t, 'HN-BD-KM-02', maiId)).state).toBe('refused');
    zturn = await mai.type('/groups');
    expect(zturn.text).toMatch(/Bạn chưa tham gia nhóm nào/);
    await mai.type('/menu');

    // Several groups: Hùng browses the area tree to an open group, and joins a third with a code.
    zturn = await hung.type('/groups');
    expect(zturn.text).toMatch(/Nhóm của bạn/);
    await hung.choose('Tham gia nhóm khác');
    expect((await hung.choose('Chọn theo tỉnh')).text).toMatch(/Chọn tỉnh\/thành phố:/);
    expect((await hung.choose('Thành phố Hà Nội')).text).toMatch(/Chọn quận\/huyện thuộc Thành phố Hà Nội:/);
    expect((await hung.choose('Quận Ba Đình')).text).toMatch(/Chọn phường\/xã thuộc Quận Ba Đình:/);
    zturn = await hung.choose('Phường Kim Mã');
    expect(zturn.text).toMatch(/Chọn tổ dân phố \/ khu dân cư thuộc Phường Kim Mã:/);
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(expect.arrayContaining(['Tổ dân phố số 1', GROUP2]));
    zturn = await hung.choose(/^Tổ dân phố số 1$/);
    expect(zturn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Kim Mã\)\./);
    zturn = await hung.type('/join dbc345');
    expect(zturn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 3 \(Phường Điện Biên\)\./);
    zturn = await hung.type('/join KMA234');
    expect(zturn.text).toMatch(/Bạn đã là thành viên của Tổ dân phố số 1\./);
    zturn = await hung.type('/join KMX999');
    expect(zturn.text).toMatch(/Mã mời "KMX999" không đúng/);
    await hung.type('/menu');

    // The list shows all three; leaving asks first, "stay" keeps the membership.
    zturn = await hung.type('/groups');
    const listed = numberedItems(zturn.text).map(([, l]) => l);
    expect(listed.slice(0, 3)).toEqual([`${GROUP2} (Phường Kim Mã)`, 'Tổ dân phố số 1 (Phường Kim Mã)', 'Tổ dân phố số 3 (Phường Điện Biên)']);
    zturn = await hung.choose('Tổ dân phố số 3');
    expect(zturn.text).toMatch(/👥 Tổ dân phố số 3 — Phường Điện Biên\nVai trò của bạn: thành viên\nTrạng thái: đang tham gia/);
    expect(zturn.text).not.toMatch(/Số thành viên/); // no leader tools for a member
    zturn = await hung.choose('Rời nhóm');
    expect(zturn.text).toMatch(/Bạn chắc chắn muốn rời Tổ dân phố số 3\?/);
    zturn = await hung.choose('Ở lại');
    expect(zturn.text).toMatch(/👥 Tổ dân phố số 3/);
    expect((await membershipOf(t, 'HN-BD-DB-03', hungId)).state).toBe('active');
    await hung.choose('Rời nhóm');
    zturn = await hung.choose('Rời nhóm'); // the confirmation's own "leave"
    expect(zturn.text).toMatch(/Bạn đã rời Tổ dân phố số 3\./);
    expect((await membershipOf(t, 'HN-BD-DB-03', hungId)).state).toBe('left');
    zturn = await hung.type('/groups');
    expect(numberedItems(zturn.text).map(([, l]) => l).slice(0, 3)).toEqual([`${GROUP2} (Phường Kim Mã)`, 'Tổ dân phố số 1 (Phường Kim Mã)', '➕ Tham gia nhóm khác']);

    // The audit log: who did what to which membership, and when.
    const audit = await t.app.db.auditLog.findMany({ orderBy: { createdAt: 'asc' } });
    const groupOf = async (code: string) => (await t.app.db.group.findUniqueOrThrow({ where: { code } })).id;
    const rows = audit.filter((r) => r.action.startsWith('membership.') || r.action.startsWith('role.')).map((r) => [r.action, r.actorId, r.subject]);
    expect(rows).toEqual([
      ['role.leader.granted', null, `person:${leaderId}`],
      ['membership.requested', hungId, `group:${km2.id}`],
      ['membership.approved', leaderId, `membership:${hungRequest.id}`],
      ['membership.requested', maiId, `group:${km2.id}`],
      ['membership.refused', leaderId, `membership:${maiRequest.id}`],
      ['membership.joined', hungId, `group:${await groupOf('HN-BD-KM-01')}`],
      ['membership.joined', hungId, `group:${await groupOf('HN-BD-DB-03')}`],
      ['membership.left', hungId, `group:${await groupOf('HN-BD-DB-03')}`],
    ]);
    for (const r of audit) {
      expect(r.createdAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
      expect(r.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    }

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});

describe('groups: a leader on the web chat', () => {
  it('counts, requests, members as numbers or shared names, deputies, removal, invite code, notices to all three channels; deputies and members are held to their rights', async () => {
    const { tg, zalo, t } = await startWorld();
    const startedAt = new Date(Date.now() - 1000);

    // The leader of HN-BD-KM-02 uses the web chat.
    const leader: WebUser = webUser(t.baseUrl);
    await leader.say('/start');
    await leader.say('1');
    await leader.say('1');
    expect(texts(await leader.say('3'))).toMatch(/Bạn có thể chọn tổ dân phố sau/);
    const leaderId = await personId(t, 'web', leader.session);
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-BD-KM-02');

    // Three residents ask to join: on Telegram, on Zalo, on the web.
    const tam = await startTelegram(tg, 7_300_001, { firstName: 'Tâm', lastName: 'Trần Văn', username: 'tamtran' });
    expect((await tam.command('/join KMB567')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const hoa = await startZalo(zalo, 'zalo-hoa-601', 'Lê Thị Hoa');
    expect((await hoa.type('/join KMB567')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const web = webUser(t.baseUrl);
    await web.say('/start');
    await web.say('1');
    await web.say('1');
    expect(texts(await web.say('3'))).toMatch(/chọn tổ dân phố sau/);
    expect(texts(await web.say('/join kmb567'))).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const tamId = await personId(t, 'telegram', '7300001');
    const hoaId = await personId(t, 'zalo', 'zalo-hoa-601');
    const webId = await personId(t, 'web', web.session);
    const tamM = await membershipOf(t, 'HN-BD-KM-02', tamId);
    const hoaM = await membershipOf(t, 'HN-BD-KM-02', hoaId);
    const webM = await membershipOf(t, 'HN-BD-KM-02', webId);
    const alias = { tam: `Thành viên #${memberAlias(tamM.id)}`, hoa: `Thành viên #${memberAlias(hoaM.id)}`, web: `Thành viên #${memberAlias(webM.id)}` };
    // The three request notifications reached the leader before the leader starts.
    for (const m of [tamM, hoaM, webM]) await leader.waitFor(REQUEST(memberAlias(m.id)));

    // /groups -> the group: the counts line, with members per channel and requests waiting.
    let r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    expect(texts(r)).toMatch(new RegExp(`👥 ${GROUP2} — Phường Kim Mã\\nVai trò của bạn: tổ trưởng`));
    expect(texts(r)).toContain('Số thành viên: 1 (Telegram 0, Zalo 0, web 1). Yêu cầu chờ duyệt: 3.');

    // The requests: three numbers, no names; approve all three; each hears it on their channel.
    r = await leader.pick(r, 'Yêu cầu chờ duyệt (3)');
    expect(texts(r)).toMatch(new RegExp(`Yêu cầu chờ duyệt của ${GROUP2}:`));
    for (const label of Object.values(alias)) expect(labelsOf(r)).toContain(`✅ Đồng ý · ${label}`);
    expect(JSON.stringify(r)).not.toMatch(/Tâm|Hoa|tamtran|7300001|zalo-hoa-601/);
    const tgSince = tg.calls.length;
    const zSince = zalo.sent.length;
    const webSince = web.log.length;
    for (const label of Object.values(alias)) {
      r = await leader.pick(r, `✅ Đồng ý · ${label}`);
      expect(texts(r)).toContain(`Đã đồng ý cho thành viên tham gia ${GROUP2}.`);
    }
    expect(texts(r)).toMatch(/Không có yêu cầu nào đang chờ duyệt\./);
    const approved = new RegExp(`Yêu cầu tham gia ${GROUP2} của bạn đã được đồng ý`);
    await tam.waitFor(approved, tgSince);
    await hoa.waitFor(approved, zSince);
    await web.waitFor(approved, webSince);

    // Tâm chooses to show his name to the leaders.
    let turn = await tam.command('/groups');
    turn = await tam.press(GROUP2);
    expect(turn.text).not.toMatch(/Số thành viên/);
    expect(tam.buttons('Rời nhóm').map((b) => b.text)).toEqual(['👤 Cho thấy tên của tôi', '🚪 Rời nhóm', '⬅️ Quay lại']);
    turn = await tam.press('Cho thấy tên của tôi');
    expect(turn.text).toContain(`Tổ trưởng, tổ phó ${GROUP2} giờ thấy được tên hiển thị của bạn.`);
    expect(tam.buttons('Rời nhóm')[0]!.text).toBe('🕶 Không, giữ kín');

    // A plain member has no leader tools: a forged button is not an answer, a forged approval is refused.
    turn = await tam.forge('grp:pending');
    expect(turn.text).toMatch(/Bạn hãy chọn một mục trong danh sách/);
    expect(turn.text).not.toMatch(/Yêu cầu chờ duyệt/);
    const stranger = await startTelegram(tg, 7_300_009, { firstName: 'Khách' });
    await stranger.command('/join KMB567');
    const strangerM = await membershipOf(t, 'HN-BD-KM-02', await personId(t, 'telegram', '7300009'));
    // Wait for the leader's copy of the request, so it does not land among the leader's next answers.
    await leader.waitFor(REQUEST(memberAlias(strangerM.id)));
    turn = await tam.forge(`g:${strangerM.id}:approve`);
    expect(turn.text).toMatch(new RegExp(`Bạn không có quyền quản lý ${GROUP2}\\.`));
    expect((await t.app.db.membership.findUniqueOrThrow({ where: { id: strangerM.id } })).state).toBe('pending');
    await expect(t.app.services.groups.stats(tamId, tamM.groupId)).rejects.toMatchObject({ code: 'groups:forbidden' });
    await expect(t.app.services.groups.remove(tamId, hoaM.id)).rejects.toMatchObject({ code: 'groups:forbidden' });
    await tam.command('/menu');

    // Back to the group: four members, one per Telegram and Zalo, two on the web; one request.
    r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    expect(texts(r)).toContain('Số thành viên: 4 (Telegram 1, Zalo 1, web 2). Yêu cầu chờ duyệt: 1.');

    // Members: Tâm by name (he shared it), the others by number; nothing else about them.
    r = await leader.pick(r, 'Thành viên');
    expect(texts(r)).toMatch(new RegExp(`Thành viên ${GROUP2}`));
    const memberLabels = labelsOf(r);
    expect(memberLabels).toEqual(
      expect.arrayContaining(['Tâm Trần Văn · thành viên', `${alias.hoa} · thành viên`, `${alias.web} · thành viên`, expect.stringMatching(/^Thành viên #[A-Z2-9]{4} · tổ trưởng$/)]),
    );
    expect(JSON.stringify(r)).not.toMatch(/Lê Thị Hoa|zalo-hoa-601|tamtran|7300001|Khách/);
    expect(JSON.stringify(r)).not.toContain(web.session);

    // Appoint Hoa deputy; she is told on Zalo.
    let zsince = zalo.sent.length;
    r = await leader.pick(r, alias.hoa);
    expect(texts(r)).toContain(`${alias.hoa} — thành viên`);
    expect(labelsOf(r)).toEqual(['⭐ Giao làm tổ phó', '🚫 Đưa ra khỏi tổ', '⬅️ Quay lại']);
    r = await leader.pick(r, 'Giao làm tổ phó');
    expect(texts(r)).toContain(`Đã cập nhật vai trò của ${alias.hoa}.`);
    expect(labelsOf(r)).toContain(`${alias.hoa} · tổ phó`);
    await hoa.waitFor(new RegExp(`Bạn đã được giao làm tổ phó ${GROUP2}\\.`), zsince);
    expect((await t.app.db.membership.findUniqueOrThrow({ where: { id: hoaM.id } })).role).toBe('deputy');

    // The deputy sees the leader's tools but may not appoint deputies.
    let zturn = await hoa.type('/groups');
    zturn = await hoa.choose(GROUP2);
    expect(zturn.text).toMatch(/Vai trò của bạn: tổ phó/);
    expect(zturn.text).toContain('Số thành viên: 4 (Telegram 1, Zalo 1, web 2). Yêu cầu chờ duyệt: 1.');
    zturn = await hoa.choose('👥 Thành viên');
    zturn = await hoa.choose(alias.web);
    expect(zturn.text).toContain(`${alias.web} — thành viên`);
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(['🚫 Đưa ra khỏi tổ', '⬅️ Quay lại']);
    await hoa.type('/menu');
    await expect(t.app.services.groups.setDeputy(hoaId, webM.id, true)).rejects.toMatchObject({ code: 'groups:forbidden' });
    expect(await t.app.services.groups.canManage(hoaId, hoaM.groupId)).toBe(true);
    expect(await t.app.services.groups.canAppointDeputy(hoaId, hoaM.groupId)).toBe(false);

    // A notice to the whole group reaches every member, on all three channels.
    const notice = 'Sáng Chủ nhật 8h tổng vệ sinh ngõ 12, mời cả nhà tham gia.';
    const noticeSince = { tg: tg.calls.length, zalo: zalo.sent.length, web: web.log.length, leader: leader.log.length };
    r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    r = await leader.pick(r, 'Gửi thông báo cho cả tổ');
    expect(texts(r)).toMatch(new RegExp(`Gõ nội dung thông báo gửi tới mọi thành viên ${GROUP2} \\(tối đa 1500 ký tự\\):`));
    r = await leader.say(notice);
    expect(texts(r)).toContain('Đã gửi thông báo tới 4 thành viên.');
    const noticeText = new RegExp(`^📌 Thông báo từ ${GROUP2}:\\n${notice}$`);
    await tam.waitFor(noticeText, noticeSince.tg);
    await hoa.waitFor(noticeText, noticeSince.zalo);
    await web.waitFor(noticeText, noticeSince.web);
    await leader.waitFor(noticeText, noticeSince.leader);
    await vi.waitFor(
      async () => {
        const rows = await t.app.db.delivery.findMany({ where: { kind: 'notice', payload: { contains: 'tổng vệ sinh' } } });
        expect(rows.map((d) => [d.channel, d.status]).sort()).toEqual([
          ['telegram', 'sent'],
          ['web', 'sent'],
          ['web', 'sent'],
          ['zalo', 'sent'],
        ]);
      },
      { timeout: WAIT, interval: 20 },
    );

    // Remove Hoa as deputy (told), then remove the web member from the group (told).
    zsince = zalo.sent.length;
    r = await leader.pick(r, 'Thành viên');
    r = await leader.pick(r, `${alias.hoa} · tổ phó`);
    expect(labelsOf(r)[0]).toBe('Thôi làm tổ phó');
    r = await leader.pick(r, 'Thôi làm tổ phó');
    expect(labelsOf(r)).toContain(`${alias.hoa} · thành viên`);
    await hoa.waitFor(new RegExp(`Bạn không còn là tổ phó ${GROUP2}\\.`), zsince);

    const webBefore = web.log.length;
    r = await leader.pick(r, alias.web);
    r = await leader.pick(r, 'Đưa ra khỏi tổ');
    expect(texts(r)).toContain(`Đưa ${alias.web} ra khỏi ${GROUP2}? Người đó sẽ được báo.`);
    r = await leader.pick(r, 'Đưa ra khỏi tổ');
    expect(texts(r)).toContain(`Đã đưa ${alias.web} ra khỏi tổ.`);
    expect(labelsOf(r)).not.toContain(`${alias.web} · thành viên`);
    await web.waitFor(new RegExp(`^Bạn đã được đưa ra khỏi ${GROUP2}\\.$`), webBefore);
    expect((await t.app.db.membership.findUniqueOrThrow({ where: { id: webM.id } })).state).toBe('removed');
    expect(texts(await web.say('/groups'))).toMatch(/Bạn chưa tham gia nhóm nào/);
    await web.say('/menu');

    // The invite code: shown, rotated; the old one stops working, the new one works.
    r = await leader.pick(r, 'Quay lại');
    expect(texts(r)).toContain('Số thành viên: 3 (Telegram 1, Zalo 1, web 1). Yêu cầu chờ duyệt: 1.');
    r = await leader.pick(r, 'Mã mời');
    expect(texts(r)).toContain(`Mã mời của ${GROUP2}: KMB567`);
    r = await leader.pick(r, 'Đổi mã mời');
    expect(texts(r)).toContain(`Đổi mã mời của ${GROUP2}? Mã cũ sẽ không dùng được nữa.`);
    r = await leader.pick(r, 'Đổi mã');
    const rotated = new RegExp(`Mã mời mới của ${GROUP2}: ([A-Z2-9]{7})`).exec(texts(r));
    expect(rotated).not.toBeNull();
    const newCode = rotated![1]!;
    expect(newCode).not.toBe('KMB567');
    expect((await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-BD-KM-02' } })).inviteCode).toBe(newCode);
    const late = await startTelegram(tg, 7_300_010, { firstName: 'Muộn' });
    expect((await late.command('/join KMB567')).text).toMatch(/Mã mời "KMB567" không đúng/);
    expect((await late.command(`/join ${newCode.toLowerCase()}`)).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    await leader.waitFor(REQUEST(memberAlias((await membershipOf(t, 'HN-BD-KM-02', await personId(t, 'telegram', '7300010'))).id)));

    // The leader refuses the stranger from the list of requests.
    r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    r = await leader.pick(r, 'Yêu cầu chờ duyệt (2)');
    const strangerAlias = `Thành viên #${memberAlias(strangerM.id)}`;
    const strangerSince = tg.calls.length;
    r = await leader.pick(r, `✖️ Từ chối · ${strangerAlias}`);
    expect(texts(r)).toContain(`Đã từ chối yêu cầu tham gia ${GROUP2}.`);
    await tg.waitForText(7_300_009, new RegExp(`Yêu cầu tham gia ${GROUP2} của bạn chưa được đồng ý`), WAIT, { since: strangerSince });

    // The audit log: every membership and role change, with who and when.
    const audit = await t.app.db.auditLog.findMany({ orderBy: { createdAt: 'asc' } });
    for (const row of audit) {
      expect(row.createdAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
      expect(row.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    }
    const find = (action: string, subject: string) => audit.filter((a) => a.action === action && a.subject === subject).map((a) => a.actorId);
    const km2 = tamM.groupId;
    expect(find('role.leader.granted', `person:${leaderId}`)).toEqual([null]);
    expect(find('membership.requested', `group:${km2}`).sort()).toEqual([tamId, hoaId, webId, strangerM.personId, await personId(t, 'telegram', '7300010')].sort());
    for (const m of [tamM, hoaM, webM]) expect(find('membership.approved', `membership:${m.id}`)).toEqual([leaderId]);
    expect(find('membership.refused', `membership:${strangerM.id}`)).toEqual([leaderId]);
    expect(find('membership.shareName', `membership:${tamM.id}`)).toEqual([tamId]);
    expect(find('role.deputy.granted', `membership:${hoaM.id}`)).toEqual([leaderId]);
    expect(find('role.deputy.revoked', `membership:${hoaM.id}`)).toEqual([leaderId]);
    expect(find('membership.removed', `membership:${webM.id}`)).toEqual([leaderId]);
    expect(find('group.inviteRotated', `group:${km2}`)).toEqual([leaderId]);
    expect(find('group.notice', `group:${km2}`)).toEqual([leaderId]);
    // Refused attempts changed nothing.
    expect(audit.filter((a) => a.actorId === tamId).map((a) => a.action).sort()).toEqual(['membership.requested', 'membership.shareName']);
    expect(audit.filter((a) => a.actorId === hoaId).map((a) => a.action)).toEqual(['membership.requested']);

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 120_000);
});
