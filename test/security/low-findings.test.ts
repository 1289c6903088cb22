/**
 * The review's Low findings that are the core's and the adapters' (L3 and L5 are in
 * admin-cli.test.ts and test/config.test.ts; L10 in abuse-limits.test.ts; L7 is the outbox's):
 * L1 excerpts never cut a character in half; L2 invisible formatting characters are removed
 * from user text and zero-width-only text is empty; L4 a refusal never names a case the person
 * may not see; L6 updates of the wrong shape are ignored, never answered with an internal
 * error; L8 no demo groups on a configured service; L9 a join request to a group without a
 * leader reaches the area's officers (or the administrators).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { cleanUserText, excerpt } from '../../src/core/format.js';
import { guardInbound } from '../../src/core/abuse/inbound-guard.js';
import { telegramToInbound } from '../../src/channels/telegram/to-inbound.js';
import { parseZaloUpdate, zaloToInbound } from '../../src/channels/zalo/to-inbound.js';
import { keyboardOf, telegramUser, tgText, tgTo, updateHandled } from '../helpers/telegram-user.js';
import { repliesSent } from '../helpers/replies-sent.js';
import { recordingLogger } from '../helpers/recording-logger.js';
import { startTestApp } from '../helpers/test-app.js';
import { startWorld, type Cleanups } from '../helpers/world.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** No lone surrogate (String.prototype.isWellFormed, written out: the project's TS lib predates it). */
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const INTERNAL_ERROR = /Đã có lỗi|internal|Something went wrong|lỗi hệ thống/i;

async function ownWard(app: App, options: { policy?: 'open' | 'approval' } = {}) {
  const district = await app.db.area.create({ data: { code: 'SEC-LO', name: 'Tỉnh Thử', level: 'province' } });
  const ward = await app.db.area.create({ data: { code: 'SEC-LO-W', name: 'Phường Thử', level: 'ward', parentId: district.id } });
  const group = await app.db.group.create({ data: { code: 'SEC-LO-W-01', name: 'Tổ Kiểm Thử', areaId: ward.id, inviteCode: 'LQWT234', joinPolicy: options.policy ?? 'open' } });
  return { district, ward, group };
}

describe('L1: excerpts cut between characters', () => {
  it('never leaves half an emoji (the review: "a" + 999 × 🔥), and keeps ZWJ sequences and skin tones whole', () => {
    const cut = excerpt('a' + '🔥'.repeat(999), 300);
    expect(wellFormed(cut)).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(301);
    expect(cut.endsWith('…')).toBe(true);
    for (let max = 5; max < 40; max++) {
      const family = excerpt('👨‍👩‍👧‍👦 '.repeat(20) + 'x'.repeat(5), max);
      expect(wellFormed(family), `max ${max}`).toBe(true);
      expect(family.replace('…', '').split(' ').filter(Boolean).every((s) => s === '👨‍👩‍👧‍👦'), `max ${max}: ${family}`).toBe(true);
      const tone = excerpt('👍🏽'.repeat(30), max);
      expect(tone.replace('…', '').length % 4, `max ${max}`).toBe(0);
    }
    expect(excerpt('ngắn', 300)).toBe('ngắn');
  });

  it("a handler's Telegram notification of a long emoji description is well-formed text", async () => {
    const { tg, t } = await startWorld('700201:low-token', cleanups);
    const { app } = t;
    const { group } = await ownWard(app);
    const reporter = await app.services.roles.personFor('telegram', '780001');
    await app.db.membership.create({ data: { groupId: group.id, personId: reporter, state: 'active' } });
    const leader = await app.services.roles.personFor('telegram', '780002');
    await app.db.channelAccount.findFirstOrThrow({ where: { personId: leader } });
    await app.db.membership.create({ data: { groupId: group.id, personId: leader, state: 'active', role: 'leader' } });
    const { case: c } = await app.services.cases.create(reporter, { groupId: group.id, category: 'other', urgent: false, description: 'a' + '🔥'.repeat(999), anonymous: true });
    const call = await tg.waitForText(780002, new RegExp(c.ref), 15_000);
    expect(tgText(call)).toContain('🔥');
    expect(wellFormed(tgText(call))).toBe(true);
  }, 120_000);
});

describe('L2: invisible formatting characters', () => {
  it('removes bidi overrides and isolates, direction marks, zero-width characters and controls; keeps emoji sequences, line breaks and Vietnamese', () => {
    expect(cleanUserText('\u202Egnp.exe\u202C')).toBe('gnp.exe');
    expect(cleanUserText('a\u2066b\u2067c\u2068d\u2069e\u202Af\u202Bg\u202Dh')).toBe('abcdefgh');
    expect(cleanUserText('\u200b\u200b\u200b')).toBe('');
    expect(cleanUserText('\uFEFFx\u2060y\u200Ez\u200F\u00AD')).toBe('xyz');
    expect(cleanUserText('a\u200Db\u200Cc')).toBe('abc');
    expect(cleanUserText('👨‍👩‍👧 🏳️‍🌈')).toBe('👨‍👩‍👧 🏳️‍🌈');
    expect(cleanUserText('Dòng 1\r\nDòng 2\tcột\u0007')).toBe('Dòng 1\nDòng 2\tcột');
    expect(cleanUserText('Nguyễn Thị Ánh Tuyết, ngõ 5 đường Đê La Thành')).toBe('Nguyễn Thị Ánh Tuyết, ngõ 5 đường Đê La Thành');
  });

  it('is applied to every Inbound: text, command arguments, captions and names', () => {
    const base = { channel: 'web' as const, accountId: 'wABCDEFGHJKMNPQRS', chatId: 'wABCDEFGHJKMNPQRS', chatType: 'private' as const, updateId: 'u1' };
    expect(guardInbound({ ...base, kind: 'text', text: '\u200b\u200b' })).toMatchObject({ kind: 'text', text: '' });
    expect(guardInbound({ ...base, kind: 'command', command: 'join', args: '\u202EAMK\u202C' })).toMatchObject({ args: 'AMK' });
    expect(guardInbound({ ...base, kind: 'photo', photo: { url: '/media/x' }, caption: 'x\u202Egpj' })).toMatchObject({ caption: 'xgpj' });
    expect(guardInbound({ ...base, displayName: '\u202Enamdmi\u202C', kind: 'text', text: 'hi' })).toMatchObject({ displayName: 'namdmi' });
    expect(guardInbound({ ...base, displayName: '\u200b', kind: 'text', text: 'hi' })!.displayName).toBeUndefined();
  });

  it('over Telegram: a zero-width-only message is empty, and a bidi-spoofed file name reaches the handlers plain', async () => {
    const { tg, t } = await startWorld('700202:low-token', cleanups);
    const { app } = t;
    const { group } = await ownWard(app);
    const reporterId = await app.services.roles.personFor('telegram', '781001');
    await app.db.membership.create({ data: { groupId: group.id, personId: reporterId, state: 'active' } });
    const { case: c } = await app.services.cases.create(reporterId, { groupId: group.id, category: 'other', urgent: false, description: 'Rác thải', anonymous: false });
    const reporter = telegramUser(tg, 781001, { firstName: '\u202Eنور' });
    await reporter.forge(`c:${c.id}:reply`);
    const empty = await reporter.type('\u200b\u200b\u200b');
    expect(empty.text).toMatch(/Tin nhắn đang trống/);
    expect(await app.db.caseMessage.count({ where: { caseId: c.id } })).toBe(0);
    await reporter.type('Ảnh ở tệp \u202Egnp.exe\u202C nhé');
    const message = await app.db.caseMessage.findFirstOrThrow({ where: { caseId: c.id } });
    expect(message.text).toBe('Ảnh ở tệp gnp.exe nhé');
    const account = await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: '781001' } } });
    expect(account.displayName).toBe('نور');
  }, 120_000);
});

describe('L4: refusals never name a case one may not see', () => {
  it('a forged "open case" button gets "not found" wording without the reference; the reporter still reads their own', async () => {
    const { tg, t } = await startWorld('700203:low-token', cleanups);
    const { app } = t;
    const { group } = await ownWard(app);
    const reporterId = await app.services.roles.personFor('telegram', '782001');
    await app.db.membership.create({ data: { groupId: group.id, personId: reporterId, state: 'active' } });
    const { case: c } = await app.services.cases.create(reporterId, { groupId: group.id, category: 'other', urgent: false, description: 'Karaoke ồn ào', anonymous: true });
    const outsider = telegramUser(tg, 782002, { firstName: 'Lạ' });
    for (const verb of ['open', 'reply', 'fixed', 'notfixed']) {
      const turn = await outsider.forge(`c:${c.id}:${verb}`);
      expect(turn.text, verb).toMatch(/Không tìm thấy phản ánh này/);
      expect(turn.text, verb).not.toContain(c.ref);
      expect(turn.text, verb).not.toContain('Karaoke');
      expect(turn.text, verb).not.toMatch(INTERNAL_ERROR);
    }
    const forbidden = await app.services.cases.acknowledge(await app.services.roles.personFor('telegram', '782002'), c.id).catch((e: { code: string; params: Record<string, unknown> }) => e);
    expect(forbidden).toMatchObject({ code: 'cases:forbidden' });
    expect((forbidden as { params: Record<string, unknown> }).params.ref).toBeUndefined();
    // The reporter, who may see the case, is told "not now" with its reference.
    const own = await app.services.cases.confirmFixed(reporterId, c.id, true).catch((e: { code: string; params: Record<string, unknown> }) => e);
    expect(own).toMatchObject({ code: 'cases:notNow', params: { ref: c.ref } });
    const mine = telegramUser(tg, 782001);
    expect((await mine.forge(`c:${c.id}:open`)).text).toContain(c.ref);
  }, 120_000);
});

describe('L6: updates of the wrong shape', () => {
  it('Telegram: wrong types are ignored by the adapter (zod), right ones still work', () => {
    const from = { id: 42, is_bot: false, first_name: 'A' };
    const chat = { id: 42, type: 'private' };
    expect(telegramToInbound({ update_id: 1, callback_query: { id: 'q', from, data: 12345, chat_instance: 'x' } })).toBeUndefined();
    expect(telegramToInbound({ update_id: 2, message: { message_id: 1, date: 1, from, chat, text: { evil: true } } })).toBeUndefined();
    expect(telegramToInbound({ update_id: 3, message: { message_id: 1, date: 1, from: { ...from, id: '42' }, chat, text: 'hi' } })).toBeUndefined();
    expect(telegramToInbound({ update_id: 4, message: { message_id: 1, date: 1, from, chat, location: { latitude: 'north', longitude: 1 } } })).toBeUndefined();
    expect(telegramToInbound({ update_id: 5, message: { message_id: 1, date: 1, from, chat, photo: [{ file_id: 7 }] } })).toBeUndefined();
    expect(telegramToInbound({ update_id: '6', message: { message_id: 1, date: 1, from, chat, text: 'hi' } })).toBeUndefined();
    expect(telegramToInbound(null)).toBeUndefined();
    expect(telegramToInbound({ update_id: 7, message: { message_id: 1, date: 1, from, chat, text: 'hi' } })).toMatchObject({ kind: 'text', text: 'hi', accountId: '42' });
    expect(telegramToInbound({ update_id: 8, callback_query: { id: 'q', from, data: 'menu:help', chat_instance: 'x' } })).toMatchObject({ kind: 'choice', choice: 'menu:help' });
  });

  it('Zalo: the mapped update is checked as well', () => {
    const message = { from: { id: '6ede9afa66b88fe6d6a9', display_name: 'An' }, chat: { id: '6ede9afa66b88fe6d6a9', chat_type: 'PRIVATE' }, message_id: 'm1', date: 1750316131602 };
    for (const text of [42, { a: 1 }, ['x'], null]) {
      const parsed = parseZaloUpdate({ event_name: 'message.text.received', message: { ...message, text } });
      expect(parsed ? zaloToInbound(parsed)?.kind : undefined).not.toBe('text');
    }
    const tooLongId = parseZaloUpdate({ event_name: 'message.text.received', message: { ...message, from: { id: 'x'.repeat(5000) }, text: 'hi' } });
    expect(tooLongId && zaloToInbound(tooLongId)).toBeUndefined();
    const ok = parseZaloUpdate({ event_name: 'message.text.received', message: { ...message, text: 'Xin chào\u200b' } });
    expect(zaloToInbound(ok!)).toMatchObject({ kind: 'text', text: 'Xin chào' });
  });

  it('forged Telegram updates with the wrong types reach nobody: no internal-error reply, and the bot keeps answering', async () => {
    const logger = recordingLogger();
    const { tg, t } = await startWorld('700204:low-token', cleanups, { logger });
    const forged = [
      { callback_query: { id: 'q1', from: { id: 783001, is_bot: false, first_name: 'F' }, chat_instance: 'c', data: 123 } },
      { message: { message_id: 9001, date: 1, from: { id: 783001, is_bot: false, first_name: 'F' }, chat: { id: 783001, type: 'private' }, text: { startsWith: 1 } } },
      { message: { message_id: 9002, date: 1, from: { id: 'not-a-number', is_bot: false, first_name: 'F' }, chat: { id: 783001, type: 'private' }, text: '/start' } },
      { message: { message_id: 9003, date: 1, from: { id: 783001, is_bot: false, first_name: 'F' }, chat: { id: 783001, type: 'private' }, location: { latitude: 'x', longitude: [] } } },
    ];
    const since = tg.calls.length;
    for (const body of forged) {
      const u = await tg.pushUpdate(body as never);
      await updateHandled(tg, u.update_id, 15_000);
    }
    await repliesSent('telegram', 15_000);
    const answered = tg.calls.slice(since).filter(tgTo(783001));
    expect(answered.map(tgText).join('\n')).not.toMatch(INTERNAL_ERROR);
    expect(answered).toHaveLength(0);
    expect(logger.errors).toEqual([]);
    const user = telegramUser(tg, 783001, { firstName: 'F' });
    expect((await user.command('/khongco')).text).toContain(t.app.translator.t('vi', 'common:unknownCommand', { command: 'khongco' }));
  }, 120_000);
});

describe('L8: no demo groups on a configured service', () => {
  it('with PUBLIC_URL (or a messenger token) and DEMO_DATA unset, an empty database stays empty', async () => {
    const t = await startTestApp({ env: { PUBLIC_URL: 'https://bot.example.test', DEMO_DATA: '' } });
    cleanups.push(() => t.dispose());
    expect(t.app.config.demoData).toBe(false);
    expect(await t.app.db.group.count()).toBe(0);
    expect(await t.app.db.area.count()).toBe(0);
  }, 120_000);
});

describe('L9: a join request to a group without a leader', () => {
  it("reaches the officers of the group's area, who can approve it; with no officer, the administrators", async () => {
    const { tg, t } = await startWorld('700205:low-token', cleanups);
    const { app } = t;
    const { group } = await ownWard(app, { policy: 'approval' });
    const officerId = await app.services.roles.personFor('telegram', '784001');
    await app.services.roles.grant(null, officerId, 'officer', 'SEC-LO'); // the province: covers the ward below
    const adminId = await app.services.roles.personFor('telegram', '784002');
    await app.services.roles.grant(null, adminId, 'admin');

    const asker = await app.services.roles.personFor('telegram', '784003');
    const { outcome, membership } = await app.services.groups.join(asker, group);
    expect(outcome).toBe('pending');
    const request = await tg.waitForText(784001, /xin tham gia Tổ Kiểm Thử/, 15_000);
    expect(tgText(request)).toMatch(/chưa có tổ trưởng hoặc tổ phó/);
    expect(keyboardOf(request).map((b) => b.callback_data)).toContain(`g:${membership.id}:approve`);
    // The officer (not the admin: an officer covers the area) decides.
    await repliesSent('telegram', 15_000);
    expect(tg.calls.filter(tgTo(784002)).map(tgText).join('\n')).not.toMatch(/Tổ Kiểm Thử/);
    const officer = telegramUser(tg, 784001, { firstName: 'Cán bộ' });
    await officer.pressOn(request, /Đồng ý/);
    await vi.waitFor(async () => expect((await app.db.membership.findUniqueOrThrow({ where: { id: membership.id } })).state).toBe('active'));

    // No officer anywhere above: the administrators are told.
    await app.services.roles.revoke(null, officerId, 'officer');
    const second = await app.services.roles.personFor('telegram', '784004');
    await app.services.groups.join(second, group);
    await tg.waitForText(784002, /xin tham gia Tổ Kiểm Thử/, 15_000);
  }, 120_000);
});
