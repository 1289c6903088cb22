/**
 * Residential groups end to end, through the fake Bot API servers, the web chat and the real
 * database: joining by approval on Zalo answered by a leader on Telegram (and refused), several
 * groups, list and leave; a leader's tools on the web chat (counts per channel, requests,
 * members shown as numbers unless they share their name, deputies, removing, the invite code,
 * notices reaching members on all three channels); what deputies and plain members may not do;
 * and the audit log of every membership and role change.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import type { FakeZalo } from '../fakes/fake-zalo-server.js';
import type { TestApp } from '../helpers/test-app.js';
import { texts, type WebReply } from '../helpers/web-client.js';
import { accountOf, ensureMessengerAccount } from '../helpers/roles.js';
import { numberedItems } from '../helpers/labels.js';
import { keyboardOf, tgText, type TelegramUser, type TelegramWho } from '../helpers/telegram-user.js';
import { zaloUser, type ZaloUser } from '../helpers/zalo-user.js';
import { webLogUser, type WebLogUser } from '../helpers/web-user.js';
import { onboardTelegramWithoutGroup, startWebWithoutGroup } from '../helpers/onboarding.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { memberAlias } from '../../src/core/services/group.service.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_groups_e2e';
const WAIT = 15_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** /start, Vietnamese, privacy, "later": in no group yet. */
const startTelegram = (tg: FakeTelegram, userId: number, who: TelegramWho = {}): Promise<TelegramUser> =>
  onboardTelegramWithoutGroup(tg, userId, who, /Bạn có thể chọn khu dân cư sau/);

/** /start on Zalo up to the "where do you live" question. */
async function startZalo(zalo: FakeZalo, id: string, name: string): Promise<ZaloUser> {
  const user = zaloUser(zalo, id, name, { messageIds: 'random' });
  expect((await user.type('/start')).text).toMatch(/ngôn ngữ nào/);
  expect((await user.type('1')).text).toMatch(/tự động/);
  expect((await user.type('1')).text).toMatch(/Bạn sống ở khu dân cư nào \(tổ dân phố, khu phố, thôn\)\?/);
  return user;
}

const labelsOf = (replies: WebReply[]) => [...replies].reverse().find((r) => r.choices?.length)?.choices?.flat().map((c) => c.label) ?? [];

// --- Database -----------------------------------------------------------------

async function personId(t: TestApp, channel: string, externalId: string): Promise<string> {
  return (await accountOf(t.app, channel, externalId)).personId;
}

async function membershipOf(t: TestApp, groupCode: string, person: string) {
  const group = await t.app.db.group.findUniqueOrThrow({ where: { code: groupCode } });
  return t.app.db.membership.findUniqueOrThrow({ where: { groupId_personId: { groupId: group.id, personId: person } } });
}

const GROUP2 = 'Tổ dân phố số 2';
const REQUEST = (alias: string) => new RegExp(`^🙋 Thành viên #${alias} xin tham gia ${GROUP2}(\\.|, nhắn tổ trưởng: )`);
/** A group by approval first asks what the leader should know; the answer "bỏ qua" (typed, no accents needed) sends none. */
const ASK_NOTE = new RegExp(`${GROUP2} cần tổ trưởng duyệt`);
/** Then every join asks whether the group's leaders may see the person's name. */
const ASK_SHARE = (group: string) => new RegExp(`Bạn có muốn tổ trưởng, tổ phó ${group} thấy tên của bạn không\\? \\(Nếu không, họ chỉ thấy mã số như #A7K2\\.\\)`);

// ---------------------------------------------------------------------------

describe('groups: joining by approval across channels', () => {
  it('a Zalo request is approved by a Telegram leader with the button, another refused; several groups, list, leave; all in the audit log', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const startedAt = new Date(Date.now() - 1000);
    const km2 = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-02' } });
    expect(km2).toMatchObject({ joinPolicy: 'approval', inviteCode: 'KMB567' });

    // The leader of HN-GV-02 is on Telegram (appointed through the role service, as the admin CLI does).
    const leader = await startTelegram(tg, 7_200_001, { firstName: 'Tổ trưởng', lastName: 'Số 2' });
    const leaderId = await personId(t, 'telegram', '7200001');
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-GV-02');

    // A resident on Zalo asks to join with the invite code, typed in lower case with a dash.
    const hung = await startZalo(zalo, 'zalo-hung-501', 'Phạm Văn Hùng');
    expect((await hung.choose('Nhập mã mời')).text).toMatch(/Mời bạn gõ mã mời/);
    let zturn = await hung.type('kmb-567');
    expect(zturn.text).toMatch(ASK_NOTE);
    expect(zturn.text).toMatch(/• Bỏ qua/); // beside a typed answer, Zalo lists the words, not numbers
    zturn = await hung.type('bo qua');
    // Whether the leaders may see his name: on Zalo two numbered answers, and no "bấm" (there are no buttons).
    expect(zturn.text).toMatch(ASK_SHARE(GROUP2));
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(['👤 Có, hiện tên tôi', '🕶 Không, giữ kín']);
    expect(zturn.text).not.toMatch(/bấm/i);
    zturn = await hung.type('khong'); // the answer's first word, without accents
    expect(zturn.text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}\\. Tổ trưởng sẽ duyệt và tôi sẽ báo cho bạn\\.`));
    const hungId = await personId(t, 'zalo', 'zalo-hung-501');
    const hungRequest = await membershipOf(t, 'HN-GV-02', hungId);
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
    expect((await membershipOf(t, 'HN-GV-02', hungId)).state).toBe('active');
    // A second press changes nothing.
    turn = await leader.pressOn(note, 'Đồng ý');
    expect(turn.text).toBe('Yêu cầu này đã được xử lý trước đó.');

    // Another resident asks with /join; while waiting, /groups shows the request as pending; the leader refuses.
    const mai = await startZalo(zalo, 'zalo-mai-502', 'Ngô Thị Mai');
    const tgSince = tg.calls.length;
    zturn = await mai.type('/join KMB567');
    expect(zturn.text).toMatch(ASK_NOTE);
    // A bare number here is her house number, not a pick from the list.
    zturn = await mai.type('7');
    expect(zturn.text).toMatch(ASK_SHARE(GROUP2));
    zturn = await mai.type('2'); // here a number picks: "🕶 Không, giữ kín"
    expect(zturn.text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    zturn = await mai.type('/groups');
    expect(zturn.text).toMatch(new RegExp(`\\d\\. ${GROUP2} \\(Phường Giảng Võ\\) · chờ duyệt`));
    await mai.type('/menu');
    const maiId = await personId(t, 'zalo', 'zalo-mai-502');
    const maiRequest = await membershipOf(t, 'HN-GV-02', maiId);
    const refuseNote = await leader.waitFor(REQUEST(memberAlias(maiRequest.id)), tgSince);
    expect(tgText(refuseNote)).toMatch(/nhắn tổ trưởng: "7"$/); // what she chose to tell the leader
    zsince = zalo.sent.length;
    turn = await leader.pressOn(refuseNote, 'Từ chối');
    expect(turn.text).toBe(`Đã từ chối yêu cầu tham gia ${GROUP2}.`);
    await mai.waitFor(new RegExp(`Yêu cầu tham gia ${GROUP2} của bạn chưa được đồng ý`), zsince);
    expect((await membershipOf(t, 'HN-GV-02', maiId)).state).toBe('refused');
    zturn = await mai.type('/groups');
    expect(zturn.text).toMatch(/Bạn chưa tham gia khu dân cư nào/);
    await mai.type('/menu');

    // Several groups: Hùng browses the area tree to an open group, and joins a third with a code.
    zturn = await hung.type('/groups');
    expect(zturn.text).toMatch(/Khu dân cư của bạn/);
    await hung.choose('Tham gia khu dân cư khác');
    expect((await hung.choose('Chọn theo tỉnh')).text).toMatch(/Chọn tỉnh\/thành phố:/);
    expect((await hung.choose('Thành phố Hà Nội')).text).toMatch(/Chọn phường thuộc Thành phố Hà Nội:/);
    zturn = await hung.choose('Phường Giảng Võ');
    expect(zturn.text).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\) thuộc Phường Giảng Võ:/);
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(expect.arrayContaining(['Tổ dân phố số 1', GROUP2]));
    zturn = await hung.choose(/^Tổ dân phố số 1$/);
    expect(zturn.text).toMatch(ASK_SHARE('Tổ dân phố số 1'));
    zturn = await hung.type('KHONG, GIU KIN'); // the whole label, any case, no accents
    expect(zturn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Giảng Võ\)\./);
    zturn = await hung.type('/join dbc345');
    expect(zturn.text).toMatch(ASK_SHARE('Tổ dân phố số 3'));
    zturn = await hung.type('Không');
    expect(zturn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 3 \(Phường Ba Đình\)\./);
    zturn = await hung.type('/join KMA234');
    expect(zturn.text).toMatch(/Bạn đã là thành viên của Tổ dân phố số 1\./);
    zturn = await hung.type('/join KMX999');
    expect(zturn.text).toMatch(/Mã mời "KMX999" không đúng/);
    await hung.type('/menu');

    // The list shows all three; leaving asks first, "stay" keeps the membership.
    zturn = await hung.type('/groups');
    const listed = numberedItems(zturn.text).map(([, l]) => l);
    expect(listed.slice(0, 3)).toEqual([`${GROUP2} (Phường Giảng Võ)`, 'Tổ dân phố số 1 (Phường Giảng Võ)', 'Tổ dân phố số 3 (Phường Ba Đình)']);
    zturn = await hung.choose('Tổ dân phố số 3');
    expect(zturn.text).toMatch(/👥 Tổ dân phố số 3 — Phường Ba Đình\nVai trò của bạn: thành viên\nTrạng thái: đang tham gia/);
    expect(zturn.text).not.toMatch(/Số thành viên/); // no leader tools for a member
    zturn = await hung.choose('Rời khu dân cư này');
    expect(zturn.text).toMatch(/Bạn chắc chắn muốn rời Tổ dân phố số 3\?/);
    zturn = await hung.choose('Ở lại');
    expect(zturn.text).toMatch(/👥 Tổ dân phố số 3/);
    expect((await membershipOf(t, 'HN-BD-03', hungId)).state).toBe('active');
    await hung.choose('Rời khu dân cư này');
    zturn = await hung.choose('Rời khu dân cư này'); // the confirmation's own "leave"
    expect(zturn.text).toMatch(/Bạn đã rời Tổ dân phố số 3\./);
    expect((await membershipOf(t, 'HN-BD-03', hungId)).state).toBe('left');
    zturn = await hung.type('/groups');
    expect(numberedItems(zturn.text).map(([, l]) => l).slice(0, 3)).toEqual([`${GROUP2} (Phường Giảng Võ)`, 'Tổ dân phố số 1 (Phường Giảng Võ)', '➕ Tham gia khu dân cư khác']);

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
      ['membership.joined', hungId, `group:${await groupOf('HN-GV-01')}`],
      ['membership.joined', hungId, `group:${await groupOf('HN-BD-03')}`],
      ['membership.left', hungId, `group:${await groupOf('HN-BD-03')}`],
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
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const startedAt = new Date(Date.now() - 1000);

    // The leader of HN-GV-02 uses the web chat.
    const leader: WebLogUser = webLogUser(t.baseUrl);
    await startWebWithoutGroup(leader, /Bạn có thể chọn khu dân cư sau/);
    const leaderId = await personId(t, 'web', leader.session);
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-GV-02');
    // Roles act only for a person with a messenger account: as if the leader had linked Telegram.
    await ensureMessengerAccount(t.app, leaderId);

    // Three residents ask to join: on Telegram, on Zalo, on the web.
    const tam = await startTelegram(tg, 7_300_001, { firstName: 'Tâm', lastName: 'Trần Văn', username: 'tamtran' });
    expect((await tam.command('/join KMB567')).text).toMatch(ASK_NOTE);
    expect((await tam.type('Bỏ qua')).text).toMatch(ASK_SHARE(GROUP2));
    expect((await tam.press('Không, giữ kín')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const hoa = await startZalo(zalo, 'zalo-hoa-601', 'Lê Thị Hoa');
    expect((await hoa.type('/join KMB567')).text).toMatch(ASK_NOTE);
    expect((await hoa.type('BỎ QUA')).text).toMatch(ASK_SHARE(GROUP2));
    expect((await hoa.choose('Không, giữ kín')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const web = webLogUser(t.baseUrl);
    await startWebWithoutGroup(web, /chọn khu dân cư sau/);
    expect(texts(await web.say('/join kmb567'))).toMatch(ASK_NOTE);
    const asked = await web.say('bỏ qua');
    expect(texts(asked)).toMatch(ASK_SHARE(GROUP2));
    expect(texts(await web.pick(asked, 'Không, giữ kín'))).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const tamId = await personId(t, 'telegram', '7300001');
    const hoaId = await personId(t, 'zalo', 'zalo-hoa-601');
    const webId = await personId(t, 'web', web.session);
    const tamM = await membershipOf(t, 'HN-GV-02', tamId);
    const hoaM = await membershipOf(t, 'HN-GV-02', hoaId);
    const webM = await membershipOf(t, 'HN-GV-02', webId);
    const alias = { tam: `Thành viên #${memberAlias(tamM.id)}`, hoa: `Thành viên #${memberAlias(hoaM.id)}`, web: `Thành viên #${memberAlias(webM.id)}` };
    // The three request notifications reached the leader before the leader starts.
    for (const m of [tamM, hoaM, webM]) await leader.waitFor(REQUEST(memberAlias(m.id)));

    // /groups -> the group: the counts line, with members per channel and requests waiting.
    let r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    expect(texts(r)).toMatch(new RegExp(`👥 ${GROUP2} — Phường Giảng Võ\\nVai trò của bạn: tổ trưởng`));
    expect(texts(r)).toContain('Số thành viên: 1 (Telegram 0, Zalo 0, trang web 1). Yêu cầu chờ duyệt: 3.');

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
    expect(tam.buttons('Rời khu dân cư này').map((b) => b.text)).toEqual(['👤 Hiện tên của tôi', '🚪 Rời khu dân cư này', '📊 Các câu hỏi lấy ý kiến và kết quả', '⬅️ Quay lại']);
    turn = await tam.press('Hiện tên của tôi');
    expect(turn.text).toContain(`Từ nay tổ trưởng, tổ phó ${GROUP2} sẽ thấy tên hiển thị của bạn.`);
    expect(tam.buttons('Rời khu dân cư này')[0]!.text).toBe('🕶 Ẩn tên của tôi');

    // A plain member has no leader tools: a forged button is not an answer, a forged approval is refused.
    turn = await tam.forge('grp:pending');
    expect(turn.text).toMatch(/Mời bạn chọn một mục trong danh sách/);
    expect(turn.text).not.toMatch(/Yêu cầu chờ duyệt/);
    const stranger = await startTelegram(tg, 7_300_009, { firstName: 'Khách' });
    await stranger.command('/join KMB567');
    await stranger.type('bỏ qua');
    await stranger.type('không');
    const strangerM = await membershipOf(t, 'HN-GV-02', await personId(t, 'telegram', '7300009'));
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
    expect(texts(r)).toContain('Số thành viên: 4 (Telegram 1, Zalo 1, trang web 2). Yêu cầu chờ duyệt: 1.');

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
    expect(labelsOf(r)).toEqual(['⭐ Giao làm tổ phó', '🤝 Giao làm hòa giải viên', '🚫 Đưa ra khỏi khu dân cư', '⬅️ Quay lại']);
    r = await leader.pick(r, 'Giao làm tổ phó');
    expect(texts(r)).toContain(`Đã cập nhật vai trò của ${alias.hoa}.`);
    expect(labelsOf(r)).toContain(`${alias.hoa} · tổ phó`);
    await hoa.waitFor(new RegExp(`Bạn đã được giao làm tổ phó ${GROUP2}\\.`), zsince);
    expect((await t.app.db.membership.findUniqueOrThrow({ where: { id: hoaM.id } })).role).toBe('deputy');

    // The web member joins the group's mediation team (granted like deputies), and leaves it again.
    r = await leader.pick(r, alias.web);
    r = await leader.pick(r, 'Giao làm hòa giải viên');
    expect(texts(r)).toContain(`Đã cập nhật tổ hòa giải: ${alias.web}.`);
    expect(await t.app.db.mediator.count({ where: { groupId: hoaM.groupId, personId: webM.personId } })).toBe(1);
    r = await leader.pick(r, alias.web);
    expect(labelsOf(r)).toContain('Bỏ vai trò hòa giải viên');
    r = await leader.pick(r, 'Bỏ vai trò hòa giải viên');
    expect(await t.app.db.mediator.count({ where: { groupId: hoaM.groupId } })).toBe(0);

    // The deputy sees the leader's tools but may not appoint deputies.
    let zturn = await hoa.type('/groups');
    zturn = await hoa.choose(GROUP2);
    expect(zturn.text).toMatch(/Vai trò của bạn: tổ phó/);
    expect(zturn.text).toContain('Số thành viên: 4 (Telegram 1, Zalo 1, trang web 2). Yêu cầu chờ duyệt: 1.');
    zturn = await hoa.choose('👥 Thành viên');
    zturn = await hoa.choose(alias.web);
    expect(zturn.text).toContain(`${alias.web} — thành viên`);
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(['🚫 Đưa ra khỏi khu dân cư', '⬅️ Quay lại']);
    await hoa.type('/menu');
    await expect(t.app.services.groups.setDeputy(hoaId, webM.id, true)).rejects.toMatchObject({ code: 'groups:forbidden' });
    expect(await t.app.services.groups.canManage(hoaId, hoaM.groupId)).toBe(true);
    expect(await t.app.services.groups.canAppointDeputy(hoaId, hoaM.groupId)).toBe(false);

    // A notice to the whole group reaches every member, on all three channels.
    const notice = 'Sáng Chủ nhật 8h tổng vệ sinh ngõ 12, mời cả nhà tham gia.';
    const noticeSince = { tg: tg.calls.length, zalo: zalo.sent.length, web: web.log.length, leader: leader.log.length };
    r = await leader.say('/groups');
    r = await leader.pick(r, GROUP2);
    r = await leader.pick(r, 'Gửi thông báo cho cả khu dân cư');
    expect(texts(r)).toMatch(new RegExp(`Gõ nội dung thông báo gửi tới mọi thành viên ${GROUP2} \\(tối đa 1500 ký tự\\):`));
    r = await leader.say(notice);
    expect(texts(r)).toContain('Đã gửi thông báo tới 4 thành viên.');
    const noticeText = new RegExp(`^📌 Thông báo của tổ trưởng ${GROUP2}:\\n${notice}$`);
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

    // A deputy may send a notice too: it says a deputy sent it, not the leader.
    const deputyNotice = 'Tối nay 19h họp tổ tại nhà văn hóa.';
    const deputySince = { tg: tg.calls.length, zalo: zalo.sent.length };
    zturn = await hoa.type('/groups');
    zturn = await hoa.choose(GROUP2);
    zturn = await hoa.choose('📌 Gửi thông báo cho cả khu dân cư');
    zturn = await hoa.type(deputyNotice);
    expect(zturn.text).toContain('Đã gửi thông báo tới 4 thành viên.');
    const deputyText = new RegExp(`^📌 Thông báo của tổ phó ${GROUP2}:\\n${deputyNotice}$`);
    await tam.waitFor(deputyText, deputySince.tg);
    await hoa.waitFor(deputyText, deputySince.zalo);
    await hoa.type('/menu');

    // Remove Hoa as deputy (told), then remove the web member from the group (told).
    zsince = zalo.sent.length;
    r = await leader.pick(r, 'Thành viên');
    r = await leader.pick(r, `${alias.hoa} · tổ phó`);
    expect(labelsOf(r)[0]).toBe('Bỏ vai trò tổ phó');
    r = await leader.pick(r, 'Bỏ vai trò tổ phó');
    expect(labelsOf(r)).toContain(`${alias.hoa} · thành viên`);
    await hoa.waitFor(new RegExp(`Bạn không còn là tổ phó ${GROUP2}\\.`), zsince);

    const webBefore = web.log.length;
    r = await leader.pick(r, alias.web);
    r = await leader.pick(r, 'Đưa ra khỏi khu dân cư');
    expect(texts(r)).toContain(`Đưa ${alias.web} ra khỏi ${GROUP2}? Người đó sẽ được báo.`);
    r = await leader.pick(r, 'Đưa ra khỏi khu dân cư');
    expect(texts(r)).toContain(`Đã đưa ${alias.web} ra khỏi khu dân cư.`);
    expect(labelsOf(r)).not.toContain(`${alias.web} · thành viên`);
    await web.waitFor(new RegExp(`^Bạn không còn là thành viên của ${GROUP2} \\(tổ trưởng đã đưa bạn ra khỏi danh sách\\)`), webBefore);
    expect((await t.app.db.membership.findUniqueOrThrow({ where: { id: webM.id } })).state).toBe('removed');
    expect(texts(await web.say('/groups'))).toMatch(/Bạn chưa tham gia khu dân cư nào/);
    await web.say('/menu');

    // The invite code: shown, rotated; the old one stops working, the new one works.
    r = await leader.pick(r, 'Quay lại');
    expect(texts(r)).toContain('Số thành viên: 3 (Telegram 1, Zalo 1, trang web 1). Yêu cầu chờ duyệt: 1.');
    r = await leader.pick(r, 'Mã mời');
    expect(texts(r)).toContain(`Mã mời của ${GROUP2}: KMB567`);
    r = await leader.pick(r, 'Đổi mã mời');
    expect(texts(r)).toContain(`Đổi mã mời của ${GROUP2}? Mã cũ sẽ không dùng được nữa.`);
    r = await leader.pick(r, 'Đổi mã');
    const rotated = new RegExp(`Mã mời mới của ${GROUP2}: ([A-Z2-9]{7})`).exec(texts(r));
    expect(rotated).not.toBeNull();
    const newCode = rotated![1]!;
    expect(newCode).not.toBe('KMB567');
    expect((await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-02' } })).inviteCode).toBe(newCode);
    const late = await startTelegram(tg, 7_300_010, { firstName: 'Muộn' });
    expect((await late.command('/join KMB567')).text).toMatch(/Mã mời "KMB567" không đúng/);
    expect((await late.command(`/join ${newCode.toLowerCase()}`)).text).toMatch(ASK_NOTE);
    expect((await late.type('bo qua')).text).toMatch(ASK_SHARE(GROUP2));
    expect((await late.type('khong')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    await leader.waitFor(REQUEST(memberAlias((await membershipOf(t, 'HN-GV-02', await personId(t, 'telegram', '7300010'))).id)));

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
    expect(find('group.notice', `group:${km2}`).sort()).toEqual([leaderId, hoaId].sort()); // the leader's notice, then the deputy's
    // Refused attempts changed nothing.
    expect(audit.filter((a) => a.actorId === tamId).map((a) => a.action).sort()).toEqual(['membership.requested', 'membership.shareName']);
    expect(audit.filter((a) => a.actorId === hoaId).map((a) => a.action)).toEqual(['membership.requested', 'group.notice']); // and the notice a deputy may send

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 120_000);
});

describe('groups: whether the leaders see the name is asked as one joins', () => {
  it('on Telegram and Zalo, "Có" shows the name in the leader\'s member list and request, "Không" only the number; by button, number, word or label', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const GROUP1 = 'Tổ dân phố số 1';

    // One Telegram leader for the open group (HN-GV-01) and the group by approval (HN-GV-02).
    const leader = await startTelegram(tg, 7_400_001, { firstName: 'Tổ trưởng', lastName: 'Hai tổ' });
    const leaderId = await personId(t, 'telegram', '7400001');
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-GV-01');
    await t.app.services.roles.grant(null, leaderId, 'leader', 'HN-GV-02');

    // Telegram, open group: the question comes before the membership, with two buttons; Lan presses "Có".
    const lan = await startTelegram(tg, 7_400_002, { firstName: 'Lan', lastName: 'Phạm Thị' });
    let turn = await lan.command('/join KMA234');
    expect(turn.text).toMatch(ASK_SHARE(GROUP1));
    expect(turn.text).not.toMatch(/Bạn đã tham gia/);
    expect(lan.buttons('Có, hiện tên tôi').map((b) => b.text)).toEqual(['👤 Có, hiện tên tôi', '🕶 Không, giữ kín']);
    turn = await lan.press('Có, hiện tên tôi');
    expect(turn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Giảng Võ\)\./);
    // The group view's toggle then reads as an action on the current state.
    await lan.command('/groups');
    await lan.press(GROUP1);
    expect(lan.buttons('Rời khu dân cư này')[0]!.text).toBe('🕶 Ẩn tên của tôi');
    await lan.command('/menu');

    // Quang types "không" (a word the buttons start with); something else is asked again.
    const quang = await startTelegram(tg, 7_400_003, { firstName: 'Quang', lastName: 'Lê Văn' });
    expect((await quang.command('/join kma234')).text).toMatch(ASK_SHARE(GROUP1));
    turn = await quang.type('để xem đã');
    expect(turn.text).toMatch(/Mời bạn chọn một mục trong danh sách/);
    expect(turn.text).toMatch(ASK_SHARE(GROUP1));
    expect((await quang.type('không')).text).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);
    await quang.command('/groups');
    await quang.press(GROUP1);
    expect(quang.buttons('Rời khu dân cư này')[0]!.text).toBe('👤 Hiện tên của tôi');
    await quang.command('/menu');

    // Zalo, during onboarding: numbered answers, no "bấm"; Sơn types "co" (no accents), Yến the number 2.
    const son = await startZalo(zalo, 'zalo-son-701', 'Đỗ Văn Sơn');
    await son.choose('Nhập mã mời');
    let zturn = await son.type('KMA234');
    expect(zturn.text).toMatch(ASK_SHARE(GROUP1));
    expect(numberedItems(zturn.text).map(([, l]) => l)).toEqual(['👤 Có, hiện tên tôi', '🕶 Không, giữ kín']);
    expect(zturn.text).not.toMatch(/bấm/i);
    zturn = await son.type('co');
    expect(zturn.text).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);
    const yen = await startZalo(zalo, 'zalo-yen-702', 'Vũ Thị Yến');
    await son.type('/menu');
    expect((await yen.type('/join KMA234')).text).toMatch(ASK_SHARE(GROUP1));
    expect((await yen.type('2')).text).toMatch(/Bạn đã tham gia Tổ dân phố số 1/);

    const ids = {
      lan: await personId(t, 'telegram', '7400002'),
      quang: await personId(t, 'telegram', '7400003'),
      son: await personId(t, 'zalo', 'zalo-son-701'),
      yen: await personId(t, 'zalo', 'zalo-yen-702'),
    };
    const m = {
      lan: await membershipOf(t, 'HN-GV-01', ids.lan),
      quang: await membershipOf(t, 'HN-GV-01', ids.quang),
      son: await membershipOf(t, 'HN-GV-01', ids.son),
      yen: await membershipOf(t, 'HN-GV-01', ids.yen),
    };
    expect([m.lan, m.quang, m.son, m.yen].map((x) => [x.state, x.shareContact])).toEqual([
      ['active', true],
      ['active', false],
      ['active', true],
      ['active', false],
    ]);

    // The leader's member list: names for those who said "Có", numbers for the others.
    await leader.command('/groups');
    await leader.press(GROUP1);
    await leader.press('Thành viên');
    const labels = leader.buttons('Quay lại').map((b) => b.text);
    expect(labels).toEqual(
      expect.arrayContaining([
        'Lan Phạm Thị · thành viên',
        'Đỗ Văn Sơn · thành viên',
        `Thành viên #${memberAlias(m.quang.id)} · thành viên`,
        `Thành viên #${memberAlias(m.yen.id)} · thành viên`,
      ]),
    );
    expect(JSON.stringify(labels)).not.toMatch(/Quang|Yến/);
    await leader.command('/menu');

    // By approval: the note first, then the question; the request the leader gets carries both.
    const khoa = await startZalo(zalo, 'zalo-khoa-703', 'Trịnh Văn Khoa');
    let since = tg.calls.length;
    expect((await khoa.type('/join KMB567')).text).toMatch(ASK_NOTE);
    expect((await khoa.type('nhà số 5')).text).toMatch(ASK_SHARE(GROUP2));
    expect((await khoa.choose('Có, hiện tên tôi')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    await leader.waitFor(new RegExp(`^🙋 Trịnh Văn Khoa xin tham gia ${GROUP2}, nhắn tổ trưởng: "nhà số 5"$`), since);
    const minh = await startTelegram(tg, 7_400_004, { firstName: 'Minh' });
    since = tg.calls.length;
    expect((await minh.command('/join KMB567')).text).toMatch(ASK_NOTE);
    expect((await minh.type('bỏ qua')).text).toMatch(ASK_SHARE(GROUP2));
    expect((await minh.press('Không, giữ kín')).text).toMatch(new RegExp(`Đã gửi yêu cầu tham gia ${GROUP2}`));
    const minhM = await membershipOf(t, 'HN-GV-02', await personId(t, 'telegram', '7400004'));
    const minhRequest = await leader.waitFor(REQUEST(memberAlias(minhM.id)), since);
    expect(tgText(minhRequest)).not.toContain('Minh');

    // The leader's list of requests shows the same; once approved, Khoa is listed by name.
    await leader.command('/groups');
    await leader.press(GROUP2);
    await leader.press('Yêu cầu chờ duyệt (2)');
    const requests = leader.buttons('Quay lại').map((b) => b.text);
    expect(requests).toEqual(expect.arrayContaining(['✅ Đồng ý · Trịnh Văn Khoa', `✅ Đồng ý · Thành viên #${memberAlias(minhM.id)}`]));
    await leader.press('Đồng ý · Trịnh Văn Khoa');
    await leader.press('Quay lại');
    await leader.press('Thành viên');
    expect(leader.buttons('Quay lại').map((b) => b.text)).toContain('Trịnh Văn Khoa · thành viên');

    // The answer is logged like the group view's toggle.
    const shared = await t.app.db.auditLog.findMany({ where: { action: 'membership.shareName' } });
    expect(shared.map((a) => a.actorId).sort()).toEqual([ids.lan, ids.son, await personId(t, 'zalo', 'zalo-khoa-703')].sort());

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 120_000);
});
