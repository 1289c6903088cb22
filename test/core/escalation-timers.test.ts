/**
 * Escalation timers with a controllable clock: a case nobody acknowledges climbs
 * group leaders -> ward officers -> district officers by itself (15 minutes for
 * security/crime, drugs and fire, 24 hours otherwise), the new handlers are told why,
 * and the timers live in the database so a restart loses none.
 *
 * The real service and database; people are onboarded through the web chat and read
 * their notifications there. Time only moves when a test moves it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/test-app.js';
import { createWebClient, type WebClient, type WebReply } from '../helpers/web-client.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { onboardWeb as onboard } from '../helpers/onboarding.js';
import type { Category } from '../../src/core/services/case.catalog.js';

type Web = WebClient;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running.reverse()) await t.dispose(); // the newest first: restarted apps share a folder
  running = [];
});

/** The clock every service reads; only `advance` moves it. */
function testClock(start = '2026-03-02T08:00:00.000Z') {
  let current = new Date(start);
  return {
    now: () => current,
    advance(ms: number) {
      current = new Date(current.getTime() + ms);
    },
  };
}
type TestClock = ReturnType<typeof testClock>;

async function start(clock: TestClock, options: TestAppOptions & { escalationJob?: boolean } = {}): Promise<TestApp> {
  const t = await startTestApp({ env: options.env, dir: options.dir, appOptions: { clock, escalationJob: options.escalationJob ?? false } });
  running.push(t);
  return t;
}

interface Cast {
  webs: Record<'resident' | 'leader' | 'wardOfficer' | 'districtOfficer', Web>;
  ids: Record<'resident' | 'leader' | 'wardOfficer' | 'districtOfficer', string>;
  groupId: string;
}

/** A resident and a leader of HN-GV-01, an officer of ward HN-GV and one of district HN. */
async function cast(t: TestApp): Promise<Cast> {
  const webs = {
    resident: await onboard(t.baseUrl, 'KMA234'),
    leader: await onboard(t.baseUrl, 'KMA234'),
    wardOfficer: await onboard(t.baseUrl, 'DBC345'),
    districtOfficer: await onboard(t.baseUrl, 'DBC345'),
  };
  const idOf = async (w: Web) => (await personOf(t.app, 'web', w.session)).id;
  const ids = {
    resident: await idOf(webs.resident),
    leader: await idOf(webs.leader),
    wardOfficer: await idOf(webs.wardOfficer),
    districtOfficer: await idOf(webs.districtOfficer),
  };
  await makeLeader(t.app, ids.leader, 'HN-GV-01');
  await makeOfficer(t.app, ids.wardOfficer, 'HN-GV');
  await makeOfficer(t.app, ids.districtOfficer, 'HN');
  const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-01' } });
  return { webs, ids, groupId: group.id };
}

async function report(t: TestApp, c: Cast, category: Category, urgent = false) {
  const created = await t.app.services.cases.create(c.ids.resident, {
    groupId: c.groupId,
    category,
    urgent,
    description: `Sự việc ${category} ở ngõ 12 Kim Mã`,
    anonymous: true,
  });
  return created.case;
}

/** Where a case is: 'group' (its leaders), or the code of the area whose police handle it (the real tree). */
const levelOf = async (t: TestApp, id: string) => {
  const row = await t.app.db.case.findUniqueOrThrow({ where: { id } });
  if (row.level === 'group') return 'group';
  return (await t.app.db.area.findUniqueOrThrow({ where: { id: row.handlingAreaId! } })).code;
};
const WARD = 'HN-GV'; // Phường Giảng Võ: Công an phường Giảng Võ
const PROVINCE = 'HN'; // Thành phố Hà Nội: Công an thành phố Hà Nội
const WARD_UNIT = 'Công an phường Giảng Võ';
const PROVINCE_UNIT = 'Công an thành phố Hà Nội';

async function escalations(t: TestApp, caseId: string) {
  const events = await t.app.db.caseEvent.findMany({ where: { caseId, type: 'escalated' }, orderBy: { createdAt: 'asc' } });
  return events.map((e) => {
    const { to, reason } = JSON.parse(e.detail) as { to: string; reason: string };
    return { actorId: e.actorId, at: e.createdAt.toISOString(), to, reason };
  });
}

/** Waits until a message matching `pattern` reached this web chat; every message seen is kept in `seen`. */
async function waitForMessage(web: Web, pattern: RegExp, seen: string[] = []): Promise<WebReply> {
  let hit: WebReply | undefined;
  await vi.waitFor(
    async () => {
      const { messages } = await web.fetchNew();
      seen.push(...messages.map((m) => m.text));
      hit = hit ?? messages.find((m) => pattern.test(m.text));
      if (!hit) throw new Error(`no message matching ${pattern}; saw:\n${seen.join('\n---\n')}`);
    },
    { timeout: 5000, interval: 25 },
  );
  return hit!;
}

/** Rows queued for this person's accounts whose text mentions `ref` (what they were or will be told). */
async function queuedTextsFor(t: TestApp, personId: string, ref: string): Promise<string[]> {
  const rows = await t.app.db.delivery.findMany({ where: { account: { personId } }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => (JSON.parse(r.payload) as { text: string }).text).filter((text) => text.includes(ref));
}

const TIMEOUT_TEXT = (ref: string, level: string) => new RegExp(`⏰ ${ref} chưa được ai tiếp nhận đúng hạn nên đã tự động chuyển cho ${level}`);

describe('escalation timers', () => {
  it('security, drugs and fire climb the real tree after 15 minutes each: group -> ward police -> city police, then are flagged overdue', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const created = clock.now().getTime();
    const cases = [await report(t, c, 'security'), await report(t, c, 'drugs'), await report(t, c, 'fire')];
    const svc = t.app.services.cases;

    clock.advance(14 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    for (const k of cases) expect(await levelOf(t, k.id)).toBe('group');

    clock.advance(1 * MINUTE); // 15 minutes
    expect(await svc.escalateOverdue()).toBe(3);
    for (const k of cases) expect(await levelOf(t, k.id)).toBe(WARD);
    expect(await svc.escalateOverdue()).toBe(0); // a second check at the same moment moves nothing

    const fire = cases[2]!;
    const wardNote = await waitForMessage(c.webs.wardOfficer, TIMEOUT_TEXT(fire.ref, WARD_UNIT));
    expect(wardNote.text).toContain('Sự việc fire ở ngõ 12 Kim Mã');
    expect(wardNote.choices?.flat().map((x) => x.id)).toContain(`c:${fire.id}:open`);

    clock.advance(14 * MINUTE); // 29 minutes
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 30 minutes
    expect(await svc.escalateOverdue()).toBe(3);
    for (const k of cases) expect(await levelOf(t, k.id)).toBe(PROVINCE);
    await waitForMessage(c.webs.districtOfficer, TIMEOUT_TEXT(fire.ref, PROVINCE_UNIT));

    // The top of the tree: when its time runs out too, the case is flagged overdue and the
    // officers of that level are told; the timer is switched off.
    clock.advance(14 * MINUTE); // 44 minutes
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 45 minutes
    expect(await svc.escalateOverdue()).toBe(3);
    const overdue = await waitForMessage(c.webs.districtOfficer, new RegExp(`🔴 QUÁ HẠN: ${fire.ref} đã hết thời gian ở cấp cao nhất \\(${PROVINCE_UNIT}\\)`));
    expect(overdue.choices?.flat().map((x) => x.id)).toContain(`c:${fire.id}:open`);
    clock.advance(2 * HOUR);
    expect(await svc.escalateOverdue()).toBe(0);
    for (const k of cases) {
      const row = await t.app.db.case.findUniqueOrThrow({ where: { id: k.id } });
      expect(await levelOf(t, k.id)).toBe(PROVINCE);
      expect(row.overdueAt?.toISOString()).toBe(new Date(created + 45 * MINUTE).toISOString());
      expect(row.escalateAt).toBeNull();
      expect(await escalations(t, k.id)).toEqual([
        { actorId: null, at: new Date(created + 15 * MINUTE).toISOString(), to: WARD, reason: 'timeout' },
        { actorId: null, at: new Date(created + 30 * MINUTE).toISOString(), to: PROVINCE, reason: 'timeout' },
      ]);
    }

    // Who was told what about the fire case: the leader only got the new case, never a timeout notice.
    const leaderTexts = await queuedTextsFor(t, c.ids.leader, fire.ref);
    expect(leaderTexts).toHaveLength(1);
    expect(leaderTexts[0]).toMatch(new RegExp(`Phản ánh mới ${fire.ref}`));
    const wardTexts = await queuedTextsFor(t, c.ids.wardOfficer, fire.ref);
    expect(wardTexts.filter((x) => x.startsWith('⏰'))).toHaveLength(1);
    const districtTexts = await queuedTextsFor(t, c.ids.districtOfficer, fire.ref);
    expect(districtTexts).toHaveLength(2);
    expect(districtTexts[0]).toMatch(TIMEOUT_TEXT(fire.ref, PROVINCE_UNIT));
    expect(districtTexts[1]).toMatch(/^🔴 QUÁ HẠN/);
    // The reporter hears which unit it went to (twice), never who handles it; the ward officer never hears of the overdue flag.
    const reporterTexts = await queuedTextsFor(t, c.ids.resident, fire.ref);
    expect(reporterTexts.filter((x) => x.includes('đã được chuyển cho'))).toEqual([
      `⬆️ Phản ánh ${fire.ref} đã được chuyển cho ${WARD_UNIT} để xử lý.`,
      `⬆️ Phản ánh ${fire.ref} đã được chuyển cho ${PROVINCE_UNIT} để xử lý.`,
    ]);
    expect(wardTexts.filter((x) => x.includes('QUÁ HẠN'))).toEqual([]);
  });

  it('police categories reach the ward officer at creation; other categories reach the leaders only', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const svc = t.app.services.cases;
    for (const category of ['security', 'drugs', 'fire'] as const) {
      const created = await svc.create(c.ids.resident, { groupId: c.groupId, category, urgent: false, description: `${category} now`, anonymous: false });
      expect(created.handlers, category).toBe('leadersAndPolice');
      expect(created.handlerCount, category).toBe(2);
      expect(await queuedTextsFor(t, c.ids.wardOfficer, created.case.ref), category).toHaveLength(1);
      expect(await queuedTextsFor(t, c.ids.leader, created.case.ref), category).toHaveLength(1);
      expect(await queuedTextsFor(t, c.ids.districtOfficer, created.case.ref), category).toHaveLength(0);
    }
    for (const category of ['traffic', 'order', 'dispute', 'infrastructure', 'other'] as const) {
      const created = await svc.create(c.ids.resident, { groupId: c.groupId, category, urgent: false, description: `${category} issue`, anonymous: false });
      expect(created.handlers, category).toBe('leaders');
      expect(created.handlerCount, category).toBe(1);
      expect(await queuedTextsFor(t, c.ids.wardOfficer, created.case.ref), category).toHaveLength(0);
      expect(await queuedTextsFor(t, c.ids.leader, created.case.ref), category).toHaveLength(1);
    }
    const fireRef = (await t.app.db.case.findFirstOrThrow({ where: { category: 'fire' } })).ref;
    await waitForMessage(c.webs.wardOfficer, new RegExp(`Phản ánh mới ${fireRef}`));
  });

  it('a traffic case waits 24 hours before it moves up', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const svc = t.app.services.cases;
    const traffic = await report(t, c, 'traffic');

    clock.advance(15 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(23 * HOUR + 44 * MINUTE); // 23:59
    expect(await svc.escalateOverdue()).toBe(0);
    expect(await levelOf(t, traffic.id)).toBe('group');
    expect(await queuedTextsFor(t, c.ids.wardOfficer, traffic.ref)).toEqual([]);

    clock.advance(1 * MINUTE); // 24:00
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, traffic.id)).toBe(WARD);
    expect(await escalations(t, traffic.id)).toMatchObject([{ actorId: null, to: WARD, reason: 'timeout' }]);
    const note = await waitForMessage(c.webs.wardOfficer, TIMEOUT_TEXT(traffic.ref, WARD_UNIT));
    expect(note.text).toMatch(new RegExp(`Phản ánh mới ${traffic.ref}`)); // the case itself comes with the reason

    // The next rung waits another 24 hours.
    clock.advance(23 * HOUR);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * HOUR);
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, traffic.id)).toBe(PROVINCE);
  });

  it('an urgent report ("danger now") of any category uses the short timer', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const urgent = await report(t, c, 'traffic', true);
    clock.advance(14 * MINUTE);
    expect(await t.app.services.cases.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE);
    expect(await t.app.services.cases.escalateOverdue()).toBe(1);
    expect(await levelOf(t, urgent.id)).toBe(WARD);
  });

  it('an acknowledged case never escalates by itself', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const svc = t.app.services.cases;
    const fire = await report(t, c, 'fire');
    const traffic = await report(t, c, 'traffic');
    clock.advance(5 * MINUTE);
    await svc.acknowledge(c.ids.leader, fire.id);
    await svc.acknowledge(c.ids.leader, traffic.id);

    for (const step of [15 * MINUTE, 1 * HOUR, 2 * 24 * HOUR]) {
      clock.advance(step);
      expect(await svc.escalateOverdue()).toBe(0);
    }
    for (const k of [fire, traffic]) {
      const row = await t.app.db.case.findUniqueOrThrow({ where: { id: k.id } });
      expect(row.level).toBe('group');
      expect(row.status).toBe('acknowledged');
      expect(row.escalateAt).toBeNull();
      expect(await escalations(t, k.id)).toEqual([]);
    }
  });

  it('a case put back in the queue ("not fixed") gets a new timer', async () => {
    const clock = testClock();
    const t = await start(clock);
    const c = await cast(t);
    const svc = t.app.services.cases;
    const fire = await report(t, c, 'fire');
    await svc.resolve(c.ids.leader, fire.id, 'Đã dập lửa');
    clock.advance(1 * HOUR);
    expect(await svc.escalateOverdue()).toBe(0);
    await svc.confirmFixed(c.ids.resident, fire.id, false);
    clock.advance(14 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, fire.id)).toBe(WARD);
  });

  it('ESCALATION_URGENT_MINUTES and ESCALATION_NORMAL_MINUTES change the thresholds', async () => {
    const clock = testClock();
    const t = await start(clock, { env: { ESCALATION_URGENT_MINUTES: '5', ESCALATION_NORMAL_MINUTES: '60' } });
    const c = await cast(t);
    const svc = t.app.services.cases;
    const drugs = await report(t, c, 'drugs');
    const noise = await report(t, c, 'order');

    clock.advance(4 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 5 minutes
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, drugs.id)).toBe(WARD);
    expect(await levelOf(t, noise.id)).toBe('group');

    clock.advance(54 * MINUTE); // 59 minutes; the drugs case moved on to the district at 10
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, drugs.id)).toBe(PROVINCE);
    expect(await levelOf(t, noise.id)).toBe('group');
    clock.advance(1 * MINUTE); // 60 minutes
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await levelOf(t, noise.id)).toBe(WARD);
  });

  it('a timer survives restarts: the first check after a restart escalates the overdue case', async () => {
    const clock = testClock();
    const first = await start(clock);
    const c = await cast(first);
    const fire = await report(first, c, 'fire');
    await first.stop();

    // Back up before the deadline: nothing is due yet.
    clock.advance(10 * MINUTE);
    const second = await start(clock, { dir: first.dir });
    expect(await second.app.services.cases.escalateOverdue()).toBe(0);
    expect(await levelOf(second, fire.id)).toBe('group');
    await second.stop();

    // Down across the deadline, then up with the real escalation job: its first check catches up.
    clock.advance(6 * MINUTE);
    const third = await start(clock, { dir: first.dir, escalationJob: true });
    await vi.waitFor(async () => expect(await levelOf(third, fire.id)).toBe(WARD), { timeout: 5000, interval: 25 });
    expect(await escalations(third, fire.id)).toEqual([
      { actorId: null, at: new Date(clock.now().getTime()).toISOString(), to: WARD, reason: 'timeout' },
    ]);
    // The ward officer reads why, in the same web chat session as before the restarts.
    const officer = createWebClient(third.baseUrl, c.webs.wardOfficer.session);
    await waitForMessage(officer, TIMEOUT_TEXT(fire.ref, WARD_UNIT));
  });
});
