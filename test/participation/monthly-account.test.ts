/**
 * The monthly account ("dân kiểm tra, dân giám sát") on a controllable clock, with the real job:
 *  - November's reports, resolutions, an alert and a consultation, filed through the real services;
 *  - on 1 December (Vietnam time) every member who was a member in November receives, on their own
 *    channel (Telegram, Zalo), their group's and their commune/ward's figures; a figure that could
 *    point to one person ("1 case still open") reads "fewer than 3";
 *  - a resident who turned it off in /settings (web chat) receives nothing;
 *  - sent once per person and month: later checks and a restart send nothing more;
 *  - nothing in it names anyone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakes, startAppOnFakes, tempDirRemovedAfter, type Cleanups } from '../helpers/world.js';
import { onboardTelegram, onboardZalo, onboardWebInboxUser } from '../helpers/onboarding.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { tgText } from '../helpers/telegram-user.js';
import { findChoice } from '../helpers/web-client.js';
import type { Clock } from '../../src/core/ports/clock.js';
import { median, previousMonth } from '../../src/core/services/monthly-account.service.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_monthly_account';
/** Demo groups (prisma/seed/demo-areas.json): KMA234 joins GROUP; OTHER is in the same ward. */
const GROUP = 'HN-GV-01';
const OTHER = 'HN-GV-02';
const HOUR = 3_600_000;
const WAIT = 15_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A clock set to a given moment that then runs on with real time. */
function settableClock(iso: string) {
  let offset = Date.parse(iso) - Date.now();
  const clock: Clock = { now: () => new Date(Date.now() + offset) };
  return { clock, setTo: (to: string) => void (offset = Date.parse(to) - Date.now()) };
}

describe('monthly account: the calendar', () => {
  it('reports the month before, in Vietnam time', () => {
    // 1 December 00:30 in Vietnam is still 30 November in UTC.
    const m = previousMonth(new Date('2026-11-30T17:30:00Z'));
    expect(m).toMatchObject({ key: '2026-11', label: '11/2026', dayOfMonth: 1 });
    expect(m.from.toISOString()).toBe('2026-10-31T17:00:00.000Z');
    expect(m.to.toISOString()).toBe('2026-11-30T17:00:00.000Z');
    expect(previousMonth(new Date('2027-01-02T03:00:00Z'))).toMatchObject({ key: '2026-12', label: '12/2026', dayOfMonth: 2 });
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });
});

describe('monthly account end to end', () => {
  it('reaches every member once, on their channel, with small figures suppressed; the opted-out get nothing', async () => {
    const time = settableClock('2026-11-05T03:00:00Z');
    const fakes = await startFakes(TELEGRAM_TOKEN, cleanups);
    const dir = tempDirRemovedAfter(cleanups);
    const appOptions = { clock: time.clock, escalationJob: false, participationJobMs: 100, delivery: { idlePollMs: 20 } };
    const t = await startAppOnFakes(fakes, cleanups, { dir, appOptions });
    const { tg, zalo } = fakes;
    const db = t.app.db;
    const services = t.app.services;

    const leader = await onboardTelegram(tg, 5552000001, { firstName: 'Tổ trưởng Sơn' });
    const leaderId = (await personOf(t.app, 'telegram', '5552000001')).id;
    await makeLeader(t.app, leaderId, GROUP);
    const an = await onboardTelegram(tg, 5552000002, { firstName: 'Nguyễn Văn An', username: 'an_reporter' });
    const anId = (await personOf(t.app, 'telegram', '5552000002')).id;
    const bao = await onboardZalo(zalo, 'zl-month-bao01', 'Trần Bảo');
    const baoId = (await personOf(t.app, 'zalo', 'zl-month-bao01')).id;
    const web = await onboardWebInboxUser(t);
    const webId = (await personOf(t.app, 'web', web.session)).id;
    // Someone in the other group of the same ward, who reports there.
    const other = await onboardTelegram(tg, 5552000003, { firstName: 'Cường' }, { code: 'KMB567', joined: /Tổ dân phố số 2|chờ/ });
    const otherId = (await personOf(t.app, 'telegram', '5552000003')).id;
    await makeLeader(t.app, otherId, OTHER, 'leader');
    void other;

    // They have all been members since October.
    await db.membership.updateMany({ data: { createdAt: new Date('2026-10-01T00:00:00Z') } });

    // The web user turns the monthly account off in /settings.
    const settings = await web.say('/settings');
    const off = await web.client.choose(findChoice(settings, /Báo cáo hằng tháng: đang nhận/).id);
    expect(off.map((r) => r.text).join('\n')).toMatch(/Đã tắt báo cáo hằng tháng/);
    expect((await db.person.findUniqueOrThrow({ where: { id: webId } })).monthlyAccountOff).toBe(true);

    // November: four reports in the group (three resolved after 2, 4 and 30 hours), one in the other group.
    const group = await db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const otherGroup = await db.group.findUniqueOrThrow({ where: { code: OTHER } });
    const file = (who: string, groupId: string, description: string) =>
      services.cases.create(who, { groupId, category: 'order', urgent: false, description, anonymous: false });
    const c1 = await file(anId, group.id, 'Karaoke quá khuya ở số 8');
    const c2 = await file(baoId, group.id, 'Đèn đường hỏng ở ngõ 3');
    const c3 = await file(anId, group.id, 'Rác đổ trộm đầu ngõ');
    await file(webId, group.id, 'Xe đỗ chắn lối đi');
    await file(otherId, otherGroup.id, 'Cống tắc ở tổ 2');
    time.setTo('2026-11-05T05:00:00Z');
    await services.cases.resolve(leaderId, c1.case.id, 'Đã nhắc nhở');
    time.setTo('2026-11-05T07:00:00Z');
    await services.cases.resolve(leaderId, c2.case.id, 'Đã báo điện lực');
    time.setTo('2026-11-06T09:00:00Z');
    await services.cases.resolve(leaderId, c3.case.id, 'Đã dọn');

    // An alert and a consultation with four answers.
    await services.alerts.send(leaderId, { groupIds: [group.id], category: 'security', severity: 'moderate', headline: 'Cảnh giác trộm xe', text: 'Khóa xe cẩn thận.', expiresInMs: 6 * HOUR, exercise: false });
    const { poll } = await services.polls.create(leaderId, {
      groupIds: [group.id],
      kind: 'single',
      question: 'Có nên lắp camera đầu ngõ?',
      options: ['Đồng ý', 'Không đồng ý'],
      closesAt: new Date('2026-11-10T03:00:00Z'),
      anonymous: true,
    });
    for (const [who, choice] of [[anId, 0], [baoId, 0], [webId, 1], [leaderId, 0]] as const) await services.polls.answer(who, poll.id, { choices: [choice] });
    time.setTo('2026-11-10T04:00:00Z');
    await vi.waitFor(async () => expect((await db.poll.findUniqueOrThrow({ where: { id: poll.id } })).closedAt).not.toBeNull(), { timeout: WAIT });
    // Still November: no account yet.
    await new Promise((r) => setTimeout(r, 300));
    expect(await db.monthlyAccount.count()).toBe(0);

    // 1 December, 8:00 in Vietnam.
    time.setTo('2026-12-01T01:00:00Z');
    const account = /Báo cáo tháng 11\/2026/;
    const anCopy = tgText(await an.waitFor(account));
    expect(anCopy).toMatch(/Tổ dân phố số 1:\n• Phản ánh nhận được: 4\n• Đã giải quyết: 3\n• Còn đang xử lý: dưới 3\n• Thời gian giải quyết \(trung vị\): 4 giờ\n• Cảnh báo đã gửi: 1\n• Vụ hòa giải đã kết thúc: 0\n• Lần hỏi ý kiến người dân: 1\n {2}– "Có nên lắp camera đầu ngõ\?": nhiều nhất "Đồng ý" \(3\/4 người\)/);
    // The ward: five reports (one in the other group), two still open.
    expect(anCopy).toMatch(/Toàn Phường Giảng Võ:\n• Phản ánh nhận được: 5\n• Đã giải quyết: 3\n• Còn đang xử lý: dưới 3/);
    const baoCopy = await bao.waitFor(account);
    expect(baoCopy.body.text).toMatch(/Phản ánh nhận được: 4/);
    await leader.waitFor(account);
    await vi.waitFor(async () => expect(await db.monthlyAccount.count()).toBe(4), { timeout: WAIT }); // leader, An, Bảo, Cường

    // Nothing in it names anyone.
    for (const secret of ['An', 'an_reporter', '5552000002', 'Bảo', 'zl-month-bao01', 'Cường', 'Karaoke', 'số 8']) {
      expect(anCopy.split(/\s|[.,:()"]/)).not.toContain(secret);
    }
    expect(anCopy).not.toMatch(/Karaoke|Nguyễn Văn An|an_reporter|Trần Bảo/);

    // The web user turned it off: nothing for them, and no row.
    expect(await db.monthlyAccount.count({ where: { personId: webId } })).toBe(0);
    const webAccounts = (await web.all()).filter((m) => account.test(m.text));
    expect(webAccounts).toHaveLength(0);

    // Once per person and month: later checks and a restart send nothing more.
    const sent = await db.delivery.count({ where: { kind: 'monthly_account' } });
    expect(sent).toBe(4);
    await new Promise((r) => setTimeout(r, 400));
    await t.stop();
    const again = await startAppOnFakes(fakes, cleanups, { dir, appOptions });
    time.setTo('2026-12-02T01:00:00Z');
    await new Promise((r) => setTimeout(r, 600));
    expect(await again.app.db.delivery.count({ where: { kind: 'monthly_account' } })).toBe(sent);
  }, 240_000);
});
