/**
 * Groups in the console: a leader approves a join request, sees members as privacy allows,
 * appoints and removes a deputy, rotates the invite code, posts a notice, removes a member;
 * each reaches the member on Telegram through the group service. Other groups stay closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { linkIn, openLink } from './console-helpers.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_g';
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('groups in the console', () => {
  it('approves, appoints, rotates, posts a notice and removes, as the group service allows', { timeout: 180_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const approvalGroup = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMB567' } });
    const leaderTg = await onboardTelegram(tg, 6_700_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6700001');
    await app.db.membership.create({ data: { groupId: approvalGroup.id, personId: leader.id, role: 'leader', state: 'active' } });
    const residentTg = await onboardTelegram(tg, 6_700_011, { firstName: 'Quimbertova', username: 'secret_member' });
    const resident = await personOf(app, 'telegram', '6700011');
    await app.db.person.update({ where: { id: resident.id }, data: { displayName: 'Quimbertova Secret' } });
    const { membership } = await app.services.groups.join(resident.id, approvalGroup);
    expect(membership.state).toBe('pending');

    const desk = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    const list = await desk.get('/console/groups');
    expect(list.html).toContain(`href="/console/groups/${approvalGroup.id}">${approvalGroup.name}</a>`);
    let page = await desk.get(`/console/groups/${approvalGroup.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Yêu cầu tham gia');
    expect(page.html).not.toContain('Quimbertova');
    const post = async (action: string, extra: Record<string, string> = {}) => {
      const res = await desk.post(`/console/groups/${approvalGroup.id}/act`, { csrf: desk.csrfOf(page.html), action, ...extra });
      expect(res.status, `${action}: ${res.html.slice(0, 200)}`).toBe(303);
      page = await desk.get(res.location!);
      return page.html;
    };

    let mark = tg.calls.length;
    expect(await post('approve', { membership: membership.id })).toContain('Đã đồng ý yêu cầu tham gia.');
    await residentTg.waitFor(new RegExp(`Yêu cầu tham gia ${approvalGroup.name} của bạn đã được đồng ý`), mark);
    expect(page.html).toMatch(/Thành viên #[A-Z0-9]+<\/strong> · thành viên/);
    expect(page.html).not.toContain('Quimbertova');

    mark = tg.calls.length;
    expect(await post('deputy', { membership: membership.id })).toContain('Đã giao làm tổ phó.');
    await residentTg.waitFor(/tổ phó/, mark);
    expect(await post('undeputy', { membership: membership.id })).toContain('Đã thôi giao làm tổ phó.');

    const before = approvalGroup.inviteCode;
    expect(await post('rotate')).toContain('Đã đổi mã mời');
    const rotated = (await app.db.group.findUniqueOrThrow({ where: { id: approvalGroup.id } })).inviteCode;
    expect(rotated).not.toBe(before);
    expect(page.html).toContain(`<strong class="code">${rotated}</strong>`);

    // An empty notice: refused beside the field, nobody told.
    const empty = await desk.post(`/console/groups/${approvalGroup.id}/act`, { csrf: desk.csrfOf(page.html), action: 'notice', text: '' });
    expect(empty.status).toBe(422);
    expect(empty.html).toMatch(/id="g-notice-error" role="alert">Bạn chưa nhập nội dung.</);
    mark = tg.calls.length;
    await post('notice', { text: 'Họp tổ dân phố 19 giờ thứ Bảy tại nhà văn hóa.' });
    await residentTg.waitFor(/Họp tổ dân phố 19 giờ thứ Bảy/, mark);

    mark = tg.calls.length;
    expect(await post('remove', { membership: membership.id })).toContain('Đã mời thành viên ra khỏi nhóm.');
    await residentTg.waitFor(new RegExp(approvalGroup.name), mark);

    // A group the leader does not manage, and a membership of another group.
    const foreign = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'DBC345' } });
    expect((await desk.get(`/console/groups/${foreign.id}`)).status).toBe(403);
    const ownMembership = await app.db.membership.findFirstOrThrow({ where: { personId: resident.id, groupId: { not: approvalGroup.id } } });
    const cross = await desk.post(`/console/groups/${approvalGroup.id}/act`, { csrf: desk.csrfOf(page.html), action: 'remove', membership: ownMembership.id });
    expect(cross.status).toBe(409);
    expect((await app.db.membership.findUniqueOrThrow({ where: { id: ownMembership.id } })).state).toBe('active');
    const audit = (await app.db.auditLog.findMany({ where: { actorId: leader.id, action: { startsWith: 'console.group.' } }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(audit).toEqual(['approve', 'deputy', 'undeputy', 'rotate', 'notice', 'remove'].map((a) => `console.group.${a}`));
  });
});
