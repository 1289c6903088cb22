/**
 * Consultations, mediation and listening forums in the console (issue 13), over real HTTP with a
 * real database, the fake Telegram and the outbox:
 *  - a leader asks a question from the console (refused beside the fields first, a preview, then
 *    one poll however often the confirm is pressed); members receive it on Telegram, answer it
 *    there, and the leader reads counts and free answers without names;
 *  - the mediation team's requests: a mediator sees their group's requests only, accepts,
 *    proposes a time and place and records the outcome (the parties hear it on Telegram); a
 *    mediator who is the other party never finds the request, nor what the requester wrote; a
 *    referred one shows to the ward's police as a case, without the parties' words;
 *  - a forum's opinions grouped by concern, most raised first, answered publicly and closed;
 *  - a resident with a console session gets 403 on each list; each action is audited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { ensureMessengerAccount, makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { keyboardOf, tgText } from '../helpers/telegram-user.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { linkIn, openLink, type ConsoleBrowser } from './console-helpers.js';
import type { App } from '../../src/app.js';
import type { TestApp } from '../helpers/test-app.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_p';
/** Tổ dân phố số 1 (invite code KMA234, ward HN-GV) and Tổ dân phố số 3 (HN-BD). */
const GROUP = 'HN-GV-01';
const OTHER_GROUP = 'HN-BD-03';
const DAY = 86_400_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A person straight in the database (with a Telegram account, so roles act), an active member of a group. */
async function memberOf(app: App, groupId: string, name: string) {
  const person = await app.db.person.create({ data: { displayName: name, locale: 'vi' } });
  await ensureMessengerAccount(app, person.id);
  await app.db.membership.create({ data: { groupId, personId: person.id, role: 'member', state: 'active' } });
  return person;
}

/** A console session for anyone (the link the bot would mint, whether or not /console would give it). */
async function consoleFor(t: TestApp, personId: string): Promise<ConsoleBrowser> {
  return openLink(t, await t.app.consoleWeb.issueLink(personId));
}

const refsIn = (html: string) => [...html.matchAll(/>(HG-[A-Z0-9]+)</g)].map((m) => m[1]!);

describe('consultations, mediation and forums in the console', () => {
  it('a leader asks a question, members answer on Telegram, the results show no names', { timeout: 240_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const leaderTg = await onboardTelegram(tg, 6_810_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6810001');
    await makeLeader(app, leader.id, GROUP);
    const residentTg = await onboardTelegram(tg, 6_810_011, { firstName: 'Quimbertova' });
    const resident = await personOf(app, 'telegram', '6810011');
    await app.db.person.update({ where: { id: resident.id }, data: { displayName: 'Quimbertova Zed' } });
    const neighbour = await memberOf(app, group.id, 'Hàng xóm Xylophanes');

    const desk = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    let page = await desk.get('/console/polls');
    expect(page.status).toBe(200);
    expect(page.html).toContain('href="/console/polls" aria-current="page"');
    expect(page.html).toContain('Chưa có câu hỏi lấy ý kiến nào.');
    page = await desk.get('/console/polls/new');
    expect(page.status).toBe(200);
    expect(page.html).toContain(`value="${group.id}" checked`);
    const csrf = desk.csrfOf(page.html);

    // Refused beside each field: one option, a closing time in the past, no audience.
    const question = 'Tổ có nên lắp camera ở đầu ngõ 12 không?';
    let res = await desk.post('/console/polls/new', { csrf, step: 'preview', kind: 'single', question, options: 'Có', closes: '2020-01-01T10:00' });
    expect(res.status).toBe(422);
    expect(res.html).toMatch(/id="p-groupIds-error" role="alert">Bạn cần chọn ít nhất một/);
    expect(res.html).toMatch(/id="p-options-error" role="alert">[^<]*2/);
    expect(res.html).toMatch(/id="p-closes-error" role="alert">/);
    expect(await app.db.poll.count()).toBe(0);

    // A preview: exactly what members will read, and how many; nothing sent yet.
    const closes = new Date(Date.now() + 3 * DAY + 7 * 3_600_000).toISOString().slice(0, 16);
    const form = { csrf, group: group.id, kind: 'single', question, options: 'Có, nên lắp\nKhông cần\nCần bàn thêm', closes, anonymous: '1' };
    res = await desk.post('/console/polls/new', { ...form, step: 'preview' });
    expect(res.status).toBe(200);
    expect(res.html).toContain('<pre class="preview">');
    expect(res.html).toContain(question);
    const audience = await app.services.polls.audienceSize([group.id]);
    expect(res.html).toContain(`(${audience} người nhận)`);
    const draftKey = /name="draftKey" value="([a-f0-9]{32})"/.exec(res.html)![1]!;
    expect(await app.db.poll.count()).toBe(0);

    // Confirm (twice, as a double click would): one poll, sent through the outbox to the members.
    const mark = tg.calls.length;
    res = await desk.post('/console/polls/new', { ...form, step: 'send', draftKey });
    expect(res.status).toBe(303);
    const again = await desk.post('/console/polls/new', { ...form, step: 'send', draftKey });
    expect(again.location).toBe(res.location);
    expect(await app.db.poll.count()).toBe(1);
    const asked = await residentTg.waitFor(new RegExp(question.replace(/\?/g, '\\?')), mark);
    expect(keyboardOf(asked).map((b) => b.text)).toEqual(['Có, nên lắp', 'Không cần', 'Cần bàn thêm']);

    // Answers: the resident presses a button on Telegram, a neighbour through the service.
    await residentTg.pressOn(asked, 'Không cần');
    const poll = await app.db.poll.findFirstOrThrow();
    await app.services.polls.answer(neighbour.id, poll.id, { choices: [1] });
    page = await desk.get(res.location!);
    expect(page.html).toContain('Đã gửi câu hỏi tới thành viên các tổ.');
    expect(page.html).toContain('Kết quả đến lúc này');
    expect(page.html).toContain('2 người đã trả lời.');
    expect(page.html).toMatch(/<th scope="row">Không cần<\/th><td>2<\/td>/);
    expect(page.html).toMatch(/<th scope="row">Có, nên lắp<\/th><td>0<\/td>/);
    expect(page.html).not.toContain('Quimbertova');

    // A question answered in words: the texts show, never who wrote them.
    const freeQuestion = 'Bà con muốn tổ làm gì cho ngõ 12 sạch hơn?';
    const freeForm = { csrf, group: group.id, kind: 'free', question: freeQuestion, options: '', closes, anonymous: '1' };
    res = await desk.post('/console/polls/new', { ...freeForm, step: 'preview' });
    expect(res.status).toBe(200);
    res = await desk.post('/console/polls/new', { ...freeForm, step: 'send', draftKey: /name="draftKey" value="([a-f0-9]{32})"/.exec(res.html)![1]! });
    expect(res.status).toBe(303);
    const freePoll = await app.db.poll.findFirstOrThrow({ where: { kind: 'free' } });
    await app.services.polls.answer(resident.id, freePoll.id, { text: 'Đặt thêm thùng rác ở đầu ngõ' });
    page = await desk.get(`/console/polls/${freePoll.id}`);
    expect(page.html).toContain('<li>Đặt thêm thùng rác ở đầu ngõ</li>');
    expect(page.html).not.toContain('Quimbertova');

    const list = await desk.get('/console/polls');
    expect(list.html).toContain(`<a href="/console/polls/${poll.id}">${question}</a>`);
    expect(list.html).toContain(`<a href="/console/polls/${freePoll.id}">${freeQuestion}</a>`);

    // A resident with a console session: no list, no poll, no form.
    const residentDesk = await consoleFor(t, resident.id);
    expect((await residentDesk.get('/console/polls')).status).toBe(403);
    expect((await residentDesk.get(`/console/polls/${poll.id}`)).status).toBe(404);
    expect((await residentDesk.get('/console/polls/new')).status).toBe(403);
    const forged = await residentDesk.post('/console/polls/new', { ...form, csrf: residentDesk.csrfOf((await residentDesk.get('/console/devices')).html), step: 'send', draftKey: 'f'.repeat(32) });
    expect(forged.status).toBe(403);
    expect(await app.db.poll.count()).toBe(2);
    // A leader of another group does not see these polls.
    const otherGroup = await app.db.group.findUniqueOrThrow({ where: { code: OTHER_GROUP } });
    const otherLeader = await memberOf(app, otherGroup.id, 'Tổ trưởng tổ 3');
    await makeLeader(app, otherLeader.id, OTHER_GROUP);
    const otherDesk = await consoleFor(t, otherLeader.id);
    expect((await otherDesk.get('/console/polls')).html).not.toContain(question);
    expect((await otherDesk.get(`/console/polls/${poll.id}`)).status).toBe(404);

    const audit = (await app.db.auditLog.findMany({ where: { action: 'console.poll.create' } })).map((a) => a.actorId);
    expect(audit).toEqual([leader.id, leader.id]);
  });

  it('the mediation team works its own group\'s requests; the other party never reads them; the police see referrals', { timeout: 240_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const otherGroup = await app.db.group.findUniqueOrThrow({ where: { code: OTHER_GROUP } });
    const leader = await memberOf(app, group.id, 'Tổ trưởng Lực');
    await makeLeader(app, leader.id, GROUP);
    const mediatorTg = await onboardTelegram(tg, 6_820_002, { firstName: 'Hòa giải viên Thu' });
    const mediator = await personOf(app, 'telegram', '6820002');
    await app.services.mediation.appoint(leader.id, group.id, mediator.id, { lead: true });
    const requesterTg = await onboardTelegram(tg, 6_820_011, { firstName: 'Người đề nghị' });
    const requester = await personOf(app, 'telegram', '6820011');
    // The other party is on the team too: the team's view of their own dispute stays closed to them.
    const otherParty = await memberOf(app, group.id, 'Bên kia Ostrogoth');
    await app.services.mediation.appoint(leader.id, group.id, otherParty.id);
    // A mediator of another group, with a request there.
    const otherLeader = await memberOf(app, otherGroup.id, 'Tổ trưởng tổ 3');
    await makeLeader(app, otherLeader.id, OTHER_GROUP);
    const elsewhere = await memberOf(app, otherGroup.id, 'Hòa giải viên tổ 3');
    await app.services.mediation.appoint(otherLeader.id, otherGroup.id, elsewhere.id);
    const otherRequester = await memberOf(app, otherGroup.id, 'Cư dân tổ 3');
    const there = (await app.services.mediation.request(otherRequester.id, { groupId: otherGroup.id, subject: 'Tranh chấp lối đi chung Plumbago', otherDescription: 'nhà số 7 cuối ngõ' })).mediation;

    const subject = 'Nhà bên cạnh xả nước Zanzibarine sang sân nhà tôi mỗi sáng';
    const { mediation, code } = await app.services.mediation.request(requester.id, { groupId: group.id, subject, invite: true });
    await app.services.mediation.redeemInvite(otherParty.id, code!);
    await app.services.mediation.consent(otherParty.id, mediation.id, true);

    // The mediator gets a console link from the bot (a mediator who handles no cases) and lands on the team's list.
    const desk = await openLink(t, linkIn((await mediatorTg.command('/console')).text));
    let page = await desk.get('/console/cases');
    expect(page.status).toBe(303);
    page = await desk.get('/console/mediation');
    expect(page.status).toBe(200);
    expect(refsIn(page.html)).toEqual([mediation.ref]);
    expect(page.html).not.toContain(there.ref);
    expect((await desk.get(`/console/mediation/${there.id}`)).status).toBe(404);

    page = await desk.get(`/console/mediation/${mediation.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(subject);
    expect(page.html).toContain('Người đề nghị');
    const act = async (action: string, extra: Record<string, string> = {}, id = mediation.id) => {
      const res = await desk.post(`/console/mediation/${id}/act`, { csrf: desk.csrfOf(page.html), action, ...extra });
      expect(res.status, `${action}: ${res.html.slice(0, 300)}`).toBe(303);
      page = await desk.get(res.location!);
      return page.html;
    };
    let mark = tg.calls.length;
    expect(await act('accept')).toContain('Đã nhận hòa giải. Các bên đã được báo.');
    await requesterTg.waitFor(/Tổ hòa giải đã nhận yêu cầu hòa giải/, mark);

    // An empty proposal is refused beside its field; nobody is told.
    const empty = await desk.post(`/console/mediation/${mediation.id}/act`, { csrf: desk.csrfOf(page.html), action: 'propose', text: '  ' });
    expect(empty.status).toBe(422);
    expect(empty.html).toMatch(/id="m-propose-error" role="alert">Bạn chưa nhập nội dung.</);
    mark = tg.calls.length;
    expect(await act('propose', { text: '19 giờ thứ Bảy tại nhà văn hóa tổ 1' })).toContain('Đã gửi đề xuất tới các bên.');
    await requesterTg.waitFor(/19 giờ thứ Bảy tại nhà văn hóa tổ 1/, mark);
    mark = tg.calls.length;
    expect(await act('conclude', { outcome: 'agreed', text: 'Nhà bên cạnh làm rãnh thoát nước trước 15/12' })).toContain('Đã ghi kết quả và báo các bên.');
    const told = await requesterTg.waitFor(/Nhà bên cạnh làm rãnh thoát nước trước 15\/12/, mark);
    // What reaches the parties is the outcome, never what the requester wrote to the team.
    expect(tgText(told)).not.toContain('Zanzibarine');
    expect(page.html).toContain('Hòa giải thành');
    expect(page.html).toContain('Yêu cầu này đã kết thúc');

    // The other party, although on the team, never finds the request nor the requester's words.
    const otherDesk = await consoleFor(t, otherParty.id);
    const theirList = await otherDesk.get('/console/mediation');
    expect(theirList.status).toBe(200);
    expect(theirList.html).not.toContain(mediation.ref);
    const theirView = await otherDesk.get(`/console/mediation/${mediation.id}`);
    expect(theirView.status).toBe(404);
    expect(theirView.html).not.toContain('Zanzibarine');
    const forged = await otherDesk.post(`/console/mediation/${mediation.id}/act`, { csrf: otherDesk.csrfOf(theirList.html), action: 'refer', text: 'thử' });
    expect(forged.status).toBe(404);
    // The other group's mediator sees theirs only.
    const elsewhereDesk = await consoleFor(t, elsewhere.id);
    expect(refsIn((await elsewhereDesk.get('/console/mediation')).html)).toEqual([there.ref]);

    // A resident: no mediation page at all.
    const residentDesk = await consoleFor(t, requester.id);
    expect((await residentDesk.get('/console/mediation')).status).toBe(403);
    expect((await residentDesk.get(`/console/mediation/${mediation.id}`)).status).toBe(404);
    expect((await residentDesk.get('/console/forums')).status).toBe(403);

    // Referred: it becomes a case, and the ward's police see that it was referred, not what was said.
    const violent = (await app.services.mediation.request(requester.id, { groupId: group.id, subject: 'Hàng xóm dọa đánh Quetzalcoatl', otherDescription: 'ông ở nhà số 9' })).mediation;
    page = await desk.get(`/console/mediation/${violent.id}`);
    expect(page.html).toContain('Quetzalcoatl');
    expect(await act('refer', { text: 'Có dấu hiệu đe dọa, cần công an xử lý' }, violent.id)).toContain('Đã chuyển yêu cầu lên công an xã/phường thành một phản ánh.');
    expect(page.html).toContain('đã chuyển lên công an xã/phường');
    const referred = await app.db.mediation.findUniqueOrThrow({ where: { id: violent.id } });
    expect(referred.referredCaseId).not.toBeNull();
    const officer = await memberOf(app, otherGroup.id, 'Cán bộ công an phường');
    await makeOfficer(app, officer.id, 'HN-GV');
    const police = await consoleFor(t, officer.id);
    const policeList = await police.get('/console/mediation');
    expect(policeList.status).toBe(200);
    expect(policeList.html).toContain(violent.ref);
    expect(policeList.html).toContain(`href="/console/cases/${referred.referredCaseId}"`);
    expect(policeList.html).not.toContain(mediation.ref);
    expect(policeList.html).not.toContain('Zanzibarine');
    expect(policeList.html).not.toContain('Quetzalcoatl');
    expect((await police.get(`/console/mediation/${violent.id}`)).status).toBe(404);

    const audit = (await app.db.auditLog.findMany({ where: { actorId: mediator.id, action: { startsWith: 'console.mediation.' } }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(audit).toEqual(['accept', 'propose', 'conclude', 'refer'].map((a) => `console.mediation.${a}`));
  });

  it('a forum\'s opinions grouped by concern, most raised first, answered publicly and closed with a summary', { timeout: 240_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const leaderTg = await onboardTelegram(tg, 6_830_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6830001');
    await makeLeader(app, leader.id, GROUP);
    const residentTg = await onboardTelegram(tg, 6_830_011, { firstName: 'Quimbertova' });
    const resident = await personOf(app, 'telegram', '6830011');
    const signer = await memberOf(app, group.id, 'Bác Tư Ký Tên');
    const quiet = await memberOf(app, group.id, 'Người Giấu Tên Wolfram');

    const { forum } = await app.services.forums.open(leader.id, { groupIds: [group.id], topic: 'An ninh trật tự ngõ 12 tháng 12', closesAt: new Date(Date.now() + 2 * DAY) });
    await app.services.forums.say(resident.id, forum.id, 'Rác để đầu ngõ bốc mùi', true);
    await app.services.forums.say(quiet.id, forum.id, 'Đèn đường ngõ 12 hỏng cả tuần', true);
    await app.services.forums.say(signer.id, forum.id, 'Đèn đường cuối ngõ cũng tắt', false);
    await app.services.forums.say(resident.id, forum.id, 'Xin sửa đèn đường sớm, tối đi về sợ lắm', true);

    const desk = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    const list = await desk.get('/console/forums');
    expect(list.html).toContain(`<a href="/console/forums/${forum.id}">An ninh trật tự ngõ 12 tháng 12</a>`);
    let page = await desk.get(`/console/forums/${forum.id}`);
    expect(page.status).toBe(200);
    // "đèn đường" (three opinions) before the rubbish (one), each opinion keeping the number the bot gives it.
    const lamp = page.html.indexOf('“đèn đường”: 3 ý kiến');
    const rubbish = page.html.indexOf('Rác để đầu ngõ bốc mùi');
    expect(lamp).toBeGreaterThan(0);
    expect(rubbish).toBeGreaterThan(lamp);
    expect(page.html).toContain('<li value="2"><input type="checkbox" id="o-2" name="n" value="2"> <label for="o-2" class="opinion">Đèn đường ngõ 12 hỏng cả tuần</label>');
    expect(page.html).toContain('Bác Tư Ký Tên');
    expect(page.html).not.toContain('Wolfram');
    expect(page.html).not.toContain('Quimbertova');

    // Nothing ticked: refused, with the typed answer kept.
    let res = await desk.post(`/console/forums/${forum.id}/act`, { csrf: desk.csrfOf(page.html), action: 'answer', text: 'Tổ đã báo điện lực' });
    expect(res.status).toBe(422);
    expect(res.html).toContain('Bạn hãy đánh dấu ít nhất một ý kiến để trả lời.');
    expect(res.html).toContain('>Tổ đã báo điện lực</textarea>');

    let mark = tg.calls.length;
    const body = new URLSearchParams({ csrf: desk.csrfOf(page.html), action: 'answer', text: 'Tổ đã báo điện lực, thứ Hai sẽ thay bóng đèn.' });
    body.append('n', '2');
    body.append('n', '4');
    const answered = await fetch(`${t.baseUrl}/console/forums/${forum.id}/act`, { method: 'POST', redirect: 'manual', headers: { cookie: `console_session=${desk.cookie}`, 'content-type': 'application/x-www-form-urlencoded', origin: t.baseUrl }, body: body.toString() });
    expect(answered.status).toBe(303);
    const publicAnswer = await residentTg.waitFor(/thứ Hai sẽ thay bóng đèn/, mark);
    expect(tgText(publicAnswer)).toContain('Xin sửa đèn đường sớm');
    expect(tgText(publicAnswer)).not.toContain('Rác để đầu ngõ');
    page = await desk.get(answered.headers.get('location')!);
    expect(page.html).toContain('Đã gửi câu trả lời tới mọi người đã góp ý.');
    expect(page.html.match(/Đã trả lời: Tổ đã báo điện lực/g)).toHaveLength(2);

    mark = tg.calls.length;
    res = await desk.post(`/console/forums/${forum.id}/act`, { csrf: desk.csrfOf(page.html), action: 'close', text: 'Cảm ơn bà con: đèn đường sẽ được thay, rác thu gom hằng ngày.' });
    expect(res.status).toBe(303);
    await residentTg.waitFor(/rác thu gom hằng ngày/, mark);
    page = await desk.get(res.location!);
    expect(page.html).toContain('Đã đóng diễn đàn');
    expect(page.html).toContain('<span class="badge">đã đóng</span>');
    expect(page.html).not.toContain('name="n"');

    // Another group's leader: not theirs.
    const otherGroup = await app.db.group.findUniqueOrThrow({ where: { code: OTHER_GROUP } });
    const otherLeader = await memberOf(app, otherGroup.id, 'Tổ trưởng tổ 3');
    await makeLeader(app, otherLeader.id, OTHER_GROUP);
    const otherDesk = await consoleFor(t, otherLeader.id);
    expect((await otherDesk.get('/console/forums')).html).not.toContain('An ninh trật tự ngõ 12');
    expect((await otherDesk.get(`/console/forums/${forum.id}`)).status).toBe(404);

    const audit = (await app.db.auditLog.findMany({ where: { actorId: leader.id, action: { startsWith: 'console.forum.' } }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(audit).toEqual(['console.forum.answer', 'console.forum.close']);
  });
});
