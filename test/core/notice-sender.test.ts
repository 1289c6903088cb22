/**
 * A notice to a whole group says who sent it, by role (review P3-19): the leader, a deputy, the
 * police above the group, or an administrator: never "the leader" when somebody else wrote it.
 * (groups-e2e.test.ts walks the leader's and a deputy's notices through the chat on every channel.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitForWebMessage } from '../helpers/web-client.js';
import { onboardWeb } from '../helpers/onboarding.js';
import { ensureMessengerAccount, makeLeader, makeOfficer, personOf } from '../helpers/roles.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('group notices name their sender', () => {
  it('leader, deputy, officer and administrator each sign as what they are', async () => {
    t = await startTestApp();
    const app = t.app;
    // A resident of Tổ dân phố số 1 (HN-GV-01) on the web chat.
    const member = await onboardWeb(t.baseUrl, 'KMA234');
    const group = await app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-01' } });
    expect(await app.db.membership.count({ where: { groupId: group.id, personId: (await personOf(app, 'web', member.session)).id, state: 'active' } })).toBe(1);

    const person = async () => (await app.db.person.create({ data: { locale: 'vi', onboardedAt: new Date() } })).id;
    const leader = await person();
    await makeLeader(app, leader, 'HN-GV-01');
    const deputy = await person();
    await makeLeader(app, deputy, 'HN-GV-01', 'deputy');
    const officer = await person();
    await makeOfficer(app, officer, 'HN-GV');
    const admin = await person();
    await ensureMessengerAccount(app, admin);
    await app.db.roleGrant.create({ data: { personId: admin, role: 'admin' } });

    const cases: Array<[string, string, string]> = [
      [leader, 'Họp tổ lúc 19h.', '📌 Thông báo của tổ trưởng Tổ dân phố số 1:\nHọp tổ lúc 19h.'],
      [deputy, 'Thu gom rác sáng thứ Bảy.', '📌 Thông báo của tổ phó Tổ dân phố số 1:\nThu gom rác sáng thứ Bảy.'],
      [officer, 'Cảnh giác lừa đảo qua điện thoại.', '📌 Thông báo của Công an phường Giảng Võ gửi bà con Tổ dân phố số 1:\nCảnh giác lừa đảo qua điện thoại.'],
      [admin, 'Hệ thống bảo trì tối nay.', '📌 Thông báo của quản trị viên hệ thống gửi bà con Tổ dân phố số 1:\nHệ thống bảo trì tối nay.'],
    ];
    for (const [sender, text, shown] of cases) {
      await app.services.groups.postNotice(sender, group.id, text);
      const got = await waitForWebMessage(member, new RegExp(text.replace(/\./g, '\\.')), 20_000);
      expect(got.text).toBe(shown);
    }
  }, 60_000);
});
