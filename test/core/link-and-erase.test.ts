/**
 * One person, several channels, and their right to be forgotten, end to end through the fake
 * Bot API servers and the real database:
 *  - a code from /settings on Telegram, typed as /link CODE on Zalo, joins the two accounts
 *    into one person; groups and cases follow (a case reported on Zalo is in /myreports on
 *    Telegram);
 *  - wrong, expired (controllable clock) and reused codes are refused in the person's language;
 *    five wrong guesses block further tries for a while;
 *  - "what do you store about me" and the language change under /settings;
 *  - /delete_me asks first ("Không, giữ lại" keeps everything), then erases: a scan of every
 *    column of every table finds none of the person's identifiers; the handler still has the
 *    case, from "người đã xóa dữ liệu"; the same Telegram id then starts as a new person.
 * The erased person uses Telegram and Zalo only, so no web chat goodbye row is involved.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import type { FakeZalo } from '../fakes/fake-zalo-server.js';
import { TEST_POSTGRES_URL, type TestApp } from '../helpers/test-app.js';
import { accountOf as accountOfApp } from '../helpers/roles.js';
import { tgText, type TelegramUser, type TelegramWho } from '../helpers/telegram-user.js';
import { onboardTelegram as joinOnTelegram, onboardTelegramWithoutGroup, onboardZalo as joinOnZalo } from '../helpers/onboarding.js';
import { startWorld as startWorldOnFakes, type Cleanups } from '../helpers/world.js';
import { CODE_ALPHABET } from '../../src/core/codes.js';
import type { Clock } from '../../src/core/ports/clock.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_link_erase';
const WAIT = 15_000;
const MINUTE = 60_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A clock the test moves forward; everything else about time stays real. */
function testClock() {
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };
  return { clock, advance: (ms: number) => void (offset += ms) };
}

const startWorld = (clock: Clock) => startWorldOnFakes(TELEGRAM_TOKEN, cleanups, { clock, escalationJob: false });

/** /start, Vietnamese, privacy, then an invite code or "later". */
function onboardTelegram(tg: FakeTelegram, userId: number, who: TelegramWho, inviteCode?: string): Promise<TelegramUser> {
  return inviteCode
    ? joinOnTelegram(tg, userId, who, { code: inviteCode, joined: /Bạn đã tham gia/ })
    : onboardTelegramWithoutGroup(tg, userId, who, /chọn khu dân cư sau/);
}

/**
 * /start, the language, privacy, the invite code. Message ids are opaque random strings, as
 * Zalo's are (they never contain the user id, which the erasure scan looks for).
 */
function onboardZalo(zalo: FakeZalo, id: string, name: string, inviteCode: string, locale: 'vi' | 'en' = 'vi') {
  return joinOnZalo(zalo, id, name, { code: inviteCode, locale, joined: locale === 'vi' ? /Bạn đã tham gia/ : /You have joined/, messageIds: 'random' });
}

// --- Database -----------------------------------------------------------------

const accountOf = (t: TestApp, channel: string, externalId: string) => accountOfApp(t.app, channel, externalId);

/** The PostgreSQL schema of the test's database (undefined on SQLite). */
function schemaOf(t: TestApp): string | undefined {
  return TEST_POSTGRES_URL ? (new URL(t.app.config.databaseUrl).searchParams.get('schema') ?? 'public') : undefined;
}

/** The tables of the test's database (its SQLite file, or its PostgreSQL schema), quoted for a query. */
async function tableNames(t: TestApp): Promise<{ name: string; from: string }[]> {
  const schema = schemaOf(t);
  const rows = schema
    ? await t.app.db.$queryRawUnsafe<{ name: string }[]>(`SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE'`)
    : await t.app.db.$queryRawUnsafe<{ name: string }[]>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`);
  return rows.map(({ name }) => ({ name, from: schema ? `"${schema}"."${name}"` : `"${name}"` }));
}

/** Every value of every column of every table, as text, with where it was found. */
async function dumpDatabase(t: TestApp): Promise<Array<{ where: string; text: string }>> {
  const tables = await tableNames(t);
  const out: Array<{ where: string; text: string }> = [];
  for (const { name, from } of tables) {
    const rows = await t.app.db.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM ${from}`);
    rows.forEach((row, i) => {
      for (const [column, value] of Object.entries(row)) {
        if (value === null || value === undefined) continue;
        const text =
          value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
        out.push({ where: `${name}[${i}].${column}`, text });
      }
    });
  }
  return out;
}

const LINK_CODE = new RegExp(`Mã kết nối của bạn: ([${CODE_ALPHABET}]{8})\\n`);
const INVALID_VI = 'Mã kết nối không đúng, đã hết hạn hoặc đã được dùng. Hãy lấy mã mới trong Cài đặt ở ứng dụng kia.';
const INVALID_EN = 'That connection code is wrong, expired or already used. Get a new one under Settings on the other app.';
const TOO_MANY_VI = 'Bạn đã nhập sai mã quá nhiều lần. Hãy đợi 10 phút rồi thử lại.';

/** /settings -> "get a code" on Telegram; returns the code. */
async function linkCodeOn(user: TelegramUser): Promise<string> {
  await user.command('/settings');
  const turn = await user.press('Kết nối với ứng dụng khác');
  const code = LINK_CODE.exec(turn.text)?.[1];
  if (!code) throw new Error(`no link code in: ${turn.text}`);
  await user.command('/menu');
  return code;
}

describe('one person on several channels, and erasing them', () => {
  it('links Telegram and Zalo with a one-time code; refuses wrong, expired, reused and too many codes; shows what is stored; erases without a trace', async () => {
    const { clock, advance } = testClock();
    const { tg, zalo, t } = await startWorld(clock);
    const { db } = t.app;

    // The handler: leader of Tổ dân phố số 3 (HN-BD-03), on Telegram.
    const leader = await onboardTelegram(tg, 5_550_000_010, { firstName: 'Tổ trưởng', lastName: 'Số 3' });
    const leaderId = (await accountOf(t, 'telegram', '5550000010')).personId;
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-BD-03');

    // Lan on Telegram joins Tổ dân phố số 1; on Zalo she joins Tổ dân phố số 3 and files a named report.
    const lanTg = await onboardTelegram(tg, 5_550_123_987, { firstName: 'Lan', lastName: 'Nguyễn', username: 'lan_ng' }, 'KMA234');
    const lanZalo = await onboardZalo(zalo, 'zl-7f3a9c01lan', 'Nguyễn Thị Lan', 'DBC345');
    const tgAccount = await accountOf(t, 'telegram', '5550123987');
    const zaloAccount = await accountOf(t, 'zalo', 'zl-7f3a9c01lan');
    expect(tgAccount.personId).not.toBe(zaloAccount.personId);
    await db.person.update({ where: { id: zaloAccount.personId }, data: { phone: '0912345678' } });

    await lanZalo.type('/report');
    await lanZalo.choose('Không');
    await lanZalo.choose('ồn ào');
    await lanZalo.type('Quán karaoke đầu ngõ hát to sau 23h');
    await lanZalo.choose('Bỏ qua');
    await lanZalo.type('Đầu ngõ 7 Điện Biên Phủ');
    await lanZalo.choose('Kèm tên');
    const submitted = await lanZalo.choose('Gửi phản ánh');
    const ref = /PA-[A-Z0-9]+/.exec(submitted.text)?.[0];
    expect(ref).toBeDefined();
    const note = await leader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(tgText(note)).toContain('Người phản ánh: Nguyễn Thị Lan');

    // --- Linking -------------------------------------------------------------------------
    const code = await linkCodeOn(lanTg);
    const stored = await db.linkCode.findUniqueOrThrow({ where: { code } });
    expect(stored.expiresAt.getTime() - clock.now().getTime()).toBeGreaterThan(9 * MINUTE);
    expect(stored.expiresAt.getTime() - clock.now().getTime()).toBeLessThanOrEqual(10 * MINUTE);
    // Typed on Zalo in lower case with a space: case and spacing do not matter.
    let zturn = await lanZalo.type(`/link ${code.slice(0, 4).toLowerCase()} ${code.slice(4).toLowerCase()}`);
    expect(zturn.text).toContain('✅ Đã kết nối. Khu dân cư, phản ánh và cảnh báo của bạn giờ dùng chung trên các ứng dụng.');

    const lanId = tgAccount.personId;
    const oldZaloPersonId = zaloAccount.personId;
    expect(await db.person.findUnique({ where: { id: oldZaloPersonId } })).toBeNull();
    const lan = await db.person.findUniqueOrThrow({ where: { id: lanId }, include: { accounts: true, memberships: { include: { group: true } } } });
    expect(lan.accounts.map((a) => `${a.channel}:${a.externalId}`).sort()).toEqual(['telegram:5550123987', 'zalo:zl-7f3a9c01lan']);
    expect(lan.memberships.map((m) => [m.group.code, m.state]).sort()).toEqual([
      ['HN-BD-03', 'active'],
      ['HN-GV-01', 'active'],
    ]);
    expect(lan.phone).toBe('0912345678');
    const theCase = await db.case.findUniqueOrThrow({ where: { ref: ref! } });
    expect(theCase.reporterId).toBe(lanId);
    expect(await db.auditLog.count({ where: { action: 'person.linked', actorId: lanId } })).toBe(1);

    // A wrong guess from her Zalo account is logged against that account (and must go with her data).
    expect((await lanZalo.type('/link QQQQ2222')).text).toContain(INVALID_VI);
    expect(await db.auditLog.count({ where: { action: 'link.failed', subject: `account:${zaloAccount.id}` } })).toBe(1);

    // The case reported on Zalo is in /myreports on Telegram; both groups are under /groups on Zalo.
    let turn = await lanTg.command('/myreports');
    expect(turn.text).toMatch(/Phản ánh của bạn:/);
    expect(lanTg.buttons(ref!)[0]!.text).toMatch(new RegExp(`^${ref} · 📢 Gây mất trật tự, ồn ào \\(karaoke, nhậu…\\) · đã gửi, chờ tiếp nhận$`));
    zturn = await lanZalo.type('/groups');
    expect(zturn.text).toContain('Tổ dân phố số 1 (Phường Giảng Võ)');
    expect(zturn.text).toContain('Tổ dân phố số 3 (Phường Ba Đình)');
    await lanZalo.type('/menu');

    // She adds information on Telegram; the handler reads it under her name.
    turn = await lanTg.press(ref!);
    turn = await lanTg.press('Bổ sung thông tin');
    expect(turn.text).toMatch(new RegExp(`Gõ thông tin bổ sung cho ${ref}`));
    const tgSince = tg.calls.length;
    turn = await lanTg.type('Tối nay lại hát đến 1 giờ sáng');
    expect(turn.text).toMatch(/Đã gửi thông tin bổ sung/);
    const wrote = await leader.waitFor(/Tối nay lại hát đến 1 giờ sáng/, tgSince);
    expect(tgText(wrote)).toBe(`💬 Người phản ánh (Lan Nguyễn) nhắn về ${ref}:\n"Tối nay lại hát đến 1 giờ sáng"`);

    // --- Refusals, in each person's language ---------------------------------------------
    // Bob uses Zalo in English: a wrong code, then Lan's code again (used).
    const bob = await onboardZalo(zalo, 'zl-b0b2e702', 'Bob Smith', 'KMA234', 'en');
    expect((await bob.type('/link ABCD2345')).text).toContain(INVALID_EN);
    expect((await bob.type(`/link ${code}`)).text).toContain(INVALID_EN);
    expect((await accountOf(t, 'zalo', 'zl-b0b2e702')).personId).not.toBe(lanId);

    // Expired: Cường's code, typed 10 minutes and a second later.
    const cuong = await onboardTelegram(tg, 5_550_000_003, { firstName: 'Cường' });
    const cuongId = (await accountOf(t, 'telegram', '5550000003')).personId;
    const expiring = await linkCodeOn(cuong);
    advance(10 * MINUTE + 1000);
    expect((await bob.type(`/link ${expiring}`)).text).toContain(INVALID_EN);
    expect((await db.linkCode.findUniqueOrThrow({ where: { code: expiring } })).usedAt).toBeNull();

    // Bob changes his language under /settings; refusals now come in Vietnamese.
    zturn = await bob.type('/settings');
    expect(zturn.text).toMatch(/Settings:/);
    await bob.choose('Change language');
    zturn = await bob.choose('Tiếng Việt');
    expect(zturn.text).toMatch(/Đã chuyển sang tiếng Việt\./);
    expect((await bob.type('/link ZZZZ2222')).text).toContain(INVALID_VI);

    // Through the settings menu, a wrong code asks again.
    await cuong.command('/settings');
    turn = await cuong.press('Nhập mã kết nối');
    expect(turn.text).toMatch(/Gõ mã kết nối bạn nhận được trên ứng dụng kia:/);
    turn = await cuong.type('WRONG-CODE');
    expect(turn.text).toContain(INVALID_VI);
    expect(turn.text).toMatch(/Gõ mã kết nối bạn nhận được trên ứng dụng kia:/);
    await cuong.command('/menu');

    // Five wrong guesses: the sixth try is refused even with a valid code.
    const dung = await onboardTelegram(tg, 5_550_000_004, { firstName: 'Dũng' });
    const dungAccount = await accountOf(t, 'telegram', '5550000004');
    for (let i = 0; i < 5; i++) expect((await dung.command(`/link WRNGCD${i + 2}${i + 3}`)).text).toContain(INVALID_VI);
    const valid = await linkCodeOn(cuong);
    expect((await dung.command(`/link ${valid}`)).text).toContain(TOO_MANY_VI);
    expect((await accountOf(t, 'telegram', '5550000004')).personId).toBe(dungAccount.personId);
    expect((await db.linkCode.findUniqueOrThrow({ where: { code: valid } })).usedAt).toBeNull();
    // Ten minutes later the block is over; a fresh code, still valid after 9 minutes 58 seconds, works.
    advance(10 * MINUTE + 1000);
    const fresh = await linkCodeOn(cuong);
    advance(9 * MINUTE + 58_000);
    expect((await dung.command(`/link ${fresh}`)).text).toContain('✅ Đã kết nối.');
    expect((await accountOf(t, 'telegram', '5550000004')).personId).toBe(cuongId);
    expect(await db.person.findUnique({ where: { id: dungAccount.personId } })).toBeNull();

    // --- What is stored about Lan ----------------------------------------------------------
    await lanTg.command('/settings');
    turn = await lanTg.press('Hệ thống lưu gì về tôi');
    expect(turn.text).toContain('Những gì hệ thống lưu về bạn:');
    expect(turn.text).toContain('• Tên hiển thị: Lan Nguyễn\n• Số điện thoại: 0912 345 678\n• Ngôn ngữ: Tiếng Việt\n');
    expect(turn.text).toMatch(/• Tài khoản nhắn tin: (Telegram \(@lan_ng\), Zalo|Zalo, Telegram \(@lan_ng\))\n/);
    expect(turn.text).toContain('Tổ dân phố số 1 (đang tham gia, tổ trưởng chỉ thấy mã số)');
    expect(turn.text).toContain('Tổ dân phố số 3 (đang tham gia, tổ trưởng chỉ thấy mã số)');
    expect(turn.text).toContain('• Phản ánh đã gửi: 1 (ẩn danh: 0)\n• Tin nhắn trong các phản ánh: 1\n• Câu trả lời cảnh báo: 0');
    await lanTg.command('/menu');

    // --- /delete_me: first "no", then yes ----------------------------------------------------
    turn = await lanTg.command('/delete_me');
    expect(turn.text).toMatch(/⚠️ Xóa toàn bộ dữ liệu của bạn/);
    expect(lanTg.buttons('Không, giữ lại').map((b) => b.text)).toEqual(['🗑 Xóa tất cả dữ liệu của tôi', 'Không, giữ lại']);
    turn = await lanTg.press('Không, giữ lại');
    expect(turn.text).toContain('Dữ liệu của bạn được giữ nguyên.');
    expect(await db.channelAccount.count({ where: { personId: lanId } })).toBe(2);
    expect(await db.membership.count({ where: { personId: lanId } })).toBe(2);

    // Everything queued so far has gone out, so nothing is in flight during the scan.
    await vi.waitFor(async () => expect(await db.delivery.count({ where: { status: { in: ['queued', 'sending'] } } })).toBe(0), { timeout: WAIT, interval: 20 });
    const identifiers = {
      telegramName: 'Lan Nguyễn',
      zaloName: 'Nguyễn Thị Lan',
      username: 'lan_ng',
      phone: '0912345678',
      telegramUserAndChatId: '5550123987',
      zaloUserAndChatId: 'zl-7f3a9c01lan',
      personId: lanId,
      formerZaloPersonId: oldZaloPersonId,
      telegramAccountId: tgAccount.id,
      zaloAccountId: zaloAccount.id,
    };
    // Before: the scan does find them (the scan itself works).
    const before = await dumpDatabase(t);
    for (const [what, value] of Object.entries(identifiers)) {
      if (what === 'formerZaloPersonId') continue; // merged away already
      expect(before.some((v) => v.text.includes(value)), what).toBe(true);
    }

    await lanTg.command('/delete_me');
    turn = await lanTg.press('Xóa tất cả dữ liệu của tôi');
    expect(turn.text).toContain('Đã xóa toàn bộ dữ liệu của bạn.');

    const tables = (await tableNames(t)).map((r) => r.name);
    for (const model of ['Person', 'ChannelAccount', 'Membership', 'Case', 'CaseMessage', 'CaseEvent', 'Delivery', 'Conversation', 'AuditLog', 'LinkCode', 'WebMessage', 'ProcessedUpdate', 'RoleGrant', 'Alert']) {
      expect(tables).toContain(model);
    }
    const after = await dumpDatabase(t);
    const leftovers = Object.entries(identifiers).flatMap(([what, value]) => after.filter((v) => v.text.includes(value)).map((v) => `${what} in ${v.where}: ${v.text.slice(0, 200)}`));
    expect(leftovers).toEqual([]);

    // The case stays, with no link to her; the handler sees "người đã xóa dữ liệu".
    const kept = await db.case.findUniqueOrThrow({ where: { ref: ref! } });
    expect(kept).toMatchObject({ reporterId: null, anonymous: false, description: 'Quán karaoke đầu ngõ hát to sau 23h' });
    expect(await db.auditLog.count({ where: { action: 'person.erased' } })).toBe(1);
    await leader.command('/cases');
    turn = await leader.press(ref!);
    expect(turn.text).toContain('Người phản ánh: người đã xóa dữ liệu');
    expect(turn.text).toContain('• người đã xóa dữ liệu: Tối nay lại hát đến 1 giờ sáng');
    expect(turn.text).not.toMatch(/Lan/);

    // The same Telegram id writing again is a new person, with nothing of the old one.
    turn = await lanTg.command('/start');
    expect(turn.text).toMatch(/Bạn muốn dùng ngôn ngữ nào\?/);
    const reborn = await accountOf(t, 'telegram', '5550123987');
    expect(reborn.personId).not.toBe(lanId);
    expect(await db.membership.count({ where: { personId: reborn.personId } })).toBe(0);
    expect(await db.case.count({ where: { reporterId: reborn.personId } })).toBe(0);
    // Her Zalo account is gone too: writing there starts afresh as well.
    zturn = await lanZalo.type('/myreports');
    const zaloAgain = await accountOf(t, 'zalo', 'zl-7f3a9c01lan');
    expect(zaloAgain.personId).not.toBe(lanId);
    expect(zaloAgain.personId).not.toBe(reborn.personId);
    // A new person must read the privacy notice before anything else.
    expect(zturn.text).toMatch(/Trước tiên, mời bạn chọn ngôn ngữ và đọc thông báo về dữ liệu/);

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 120_000);
});
