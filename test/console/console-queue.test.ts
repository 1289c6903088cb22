/**
 * The console's queue shows exactly what /cases shows (same scope, same order) for a group
 * leader and for a ward officer, pages through it, filters, sorts and searches within that
 * scope only; a case outside it cannot be opened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { makeOfficer, personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import type { App } from '../../src/app.js';
import { linkIn, openLink, refsOnPage, type ConsoleBrowser } from './console-helpers.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_q';
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A member of the group with this invite code, made straight in the database. */
async function member(app: App, inviteCode: string, n: number) {
  const group = await app.db.group.findFirstOrThrow({ where: { inviteCode } });
  const person = await app.db.person.create({
    data: { onboardedAt: new Date(), accounts: { create: { channel: 'telegram', externalId: `9${n}`, chatId: `9${n}` } }, memberships: { create: { groupId: group.id, state: 'active' } } },
  });
  return { person, group };
}

/** Every reference of a queue, following the "next page" links. */
async function allRefs(desk: ConsoleBrowser, query = ''): Promise<string[]> {
  const refs: string[] = [];
  for (let page = 0; page < 10; page++) {
    const res = await desk.get(`/console/cases?${query}${query ? '&' : ''}page=${page}`);
    expect(res.status).toBe(200);
    refs.push(...refsOnPage(res.html));
    if (!res.html.includes('rel="next"')) break;
  }
  return refs;
}

describe('console queue', () => {
  it('shows a leader and an officer exactly what /cases shows them, and nothing else', { timeout: 180_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const leaderTg = await onboardTelegram(tg, 6_200_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6200001');
    const officerTg = await onboardTelegram(tg, 6_200_002, { firstName: 'Công an' });
    const officer = await personOf(app, 'telegram', '6200002');
    const g1 = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' }, include: { area: true } });

    // 56 cases in the leader's group (more than one page), 4 in a sibling group of the same
    // ward (the officer's, not the leader's), 3 in another ward (neither's).
    const categories = ['traffic', 'order', 'infrastructure', 'other'] as const;
    const created: { ref: string; id: string; code: string }[] = [];
    let n = 0;
    for (const [code, count] of [['KMA234', 56], ['KMB567', 4], ['DBC345', 3]] as const) {
      for (let i = 0; i < count; i++) {
        const { person, group } = await member(app, code, n++);
        const result = await app.services.cases.create(person.id, {
          groupId: group.id,
          category: categories[i % categories.length]!,
          urgent: i % 9 === 0,
          description: `Sự việc số ${n}: ${i % 5 === 0 ? 'đèn đường hỏng' : 'rác để sai chỗ'}`,
          anonymous: i % 2 === 0,
        });
        created.push({ ref: result.case.ref, id: result.case.id, code });
      }
    }
    // Three of the leader's cases are no longer open.
    for (const c of created.slice(0, 3)) await app.db.case.update({ where: { id: c.id }, data: { status: 'resolved' } });
    // Roles only now, so the 63 notifications of new cases do not queue up in their chats.
    await app.db.membership.updateMany({ where: { personId: leader.id }, data: { role: 'leader' } });
    await makeOfficer(app, officer.id, g1.area.code);

    for (const [who, tgUser, person] of [['leader', leaderTg, leader], ['officer', officerTg, officer]] as const) {
      const chat = (await app.services.cases.queue(person.id)).map((c) => c.ref);
      const desk = await openLink(t, linkIn((await tgUser.command('/console')).text));
      const page = await desk.get('/console/cases');
      expect(page.html, who).toContain(`Có ${chat.length} phản ánh`);
      expect(await allRefs(desk), who).toEqual(chat);
      // The chat's own list says the same count.
      expect((await tgUser.command('/cases')).text, who).toContain(`Phản ánh đang mở (${chat.length})`);
    }
    const leaderRefs = (await app.services.cases.queue(leader.id)).map((c) => c.ref);
    expect(leaderRefs).toHaveLength(53);
    expect((await app.services.cases.queue(officer.id)).length).toBe(57);

    // Filters, sorting and search, as the officer.
    const desk = await openLink(t, linkIn((await officerTg.command('/console')).text));
    const open = await app.db.case.findMany({ where: { status: { in: ['new', 'acknowledged', 'waiting_reporter', 'reopened'] }, group: { inviteCode: { in: ['KMA234', 'KMB567'] } } } });
    expect(new Set(await allRefs(desk, 'category=traffic'))).toEqual(new Set(open.filter((c) => c.category === 'traffic').map((c) => c.ref)));
    expect(new Set(await allRefs(desk, 'urgent=1'))).toEqual(new Set(open.filter((c) => c.urgent).map((c) => c.ref)));
    expect((await allRefs(desk, 'status=all')).length).toBe(60);
    expect(new Set(await allRefs(desk, 'status=resolved'))).toEqual(new Set(created.slice(0, 3).map((c) => c.ref)));
    const g2 = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMB567' } });
    expect(new Set(await allRefs(desk, `group=${g2.id}`))).toEqual(new Set(created.filter((c) => c.code === 'KMB567').map((c) => c.ref)));
    const oldest = await allRefs(desk, 'sort=oldest');
    expect(oldest).toEqual([...open].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id)).map((c) => c.ref));
    expect(new Set(await allRefs(desk, 'q=' + encodeURIComponent('đèn đường')))).toEqual(new Set(open.filter((c) => c.description.includes('đèn đường')).map((c) => c.ref)));
    const one = created[10]!;
    expect(await allRefs(desk, `q=${one.ref.toLowerCase().replace('-', ' ')}`)).toEqual([one.ref]);
    const deadline = await desk.get('/console/cases?sort=deadline');
    expect(deadline.html).toMatch(/<time class="countdown" datetime="[^"]+" data-late="Đã hết giờ">\d+:\d\d:\d\d<\/time>/);

    // "Taken on by me": the cases this person acknowledged, asked about or resolved first.
    const [takenByOfficer, takenByLeader] = [created[20]!, created[21]!];
    await app.services.cases.acknowledge(officer.id, takenByOfficer.id);
    await app.services.cases.ask(leader.id, takenByLeader.id, 'Ở số nhà mấy ạ?');
    await app.services.cases.acknowledge(officer.id, takenByLeader.id); // already taken on: stays the leader's
    expect(await allRefs(desk, 'mine=1')).toEqual([takenByOfficer.ref]);
    expect((await desk.get('/console/cases')).html).toContain('Do tôi tiếp nhận');
    const leaderDesk = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    expect(await allRefs(leaderDesk, 'mine=1')).toEqual([takenByLeader.ref]);

    // Another ward's case: not listed, not found by search, not openable.
    const foreign = created.find((c) => c.code === 'DBC345')!;
    expect(await allRefs(desk, `q=${foreign.ref}&status=all`)).toEqual([]);
    const refused = await desk.get(`/console/cases/${foreign.id}`);
    expect(refused.status).toBe(403);
    expect(refused.html).not.toContain(foreign.ref);
    expect((await desk.get('/console/cases/nonexistent')).status).toBe(404);
  });
});
