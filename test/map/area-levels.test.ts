/**
 * Levels are data, not code (issue 11 item 1): the imported tree decides how many levels there
 * are, what they are called and which police unit handles each; a case climbs that real tree
 * (group leaders -> the nearest police unit -> the next one up), with per-level timers, and is
 * flagged overdue at the top, its officers told in their language. A tree with a middle
 * (district-like) level works the same, and a database from before keeps its cases (migration).
 *
 * The real service and SQLite file; people are onboarded through the web chat.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApp, tempDir, type TestApp } from '../helpers/test-app.js';
import { onboardWeb } from '../helpers/onboarding.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import type { WebClient } from '../helpers/web-client.js';
import { importAreas } from '../../src/persistence/area-import.js';
import { csvToAreaDocument } from '../../src/persistence/area-csv.js';
import { applyMigrations, MIGRATIONS_TABLE_SQL, readMigrations, type MigrationTarget } from '../../src/persistence/migrate.js';
import { openDatabase } from '../../src/persistence/database.js';
import { rmSync } from 'node:fs';

const MINUTE = 60_000;

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function testClock(start = '2026-03-02T08:00:00.000Z') {
  let current = new Date(start);
  return {
    now: () => current,
    advance(ms: number) {
      current = new Date(current.getTime() + ms);
    },
  };
}

async function start(env: Record<string, string> = {}, clock = testClock()): Promise<{ t: TestApp; clock: ReturnType<typeof testClock> }> {
  const t = await startTestApp({ env: { DEMO_DATA: 'off', ...env }, appOptions: { clock, escalationJob: false } });
  cleanups.push(() => t.dispose());
  return { t, clock };
}

/** A tree as it was before 2025 (a district in the middle), with a police unit at each level. */
const TREE_WITH_DISTRICT = {
  areas: [
    { code: 'XP', name: 'Tỉnh Xuân Phong', level: 'province', levelName: 'Tỉnh', policeUnit: 'Công an tỉnh Xuân Phong' },
    { code: 'XP-D', name: 'Huyện Đông', level: 'district', levelName: 'Huyện', policeUnit: 'Công an huyện Đông', parent: 'XP' },
    { code: 'XP-D-A', name: 'Xã An Bình', level: 'commune', levelName: 'Xã', policeUnit: 'Công an xã An Bình', parent: 'XP-D' },
  ],
  groups: [{ code: 'XP-D-A-1', name: 'Thôn 1', area: 'XP-D-A', inviteCode: 'XPAN234', joinPolicy: 'open' }],
};

async function waitForText(web: WebClient, pattern: RegExp, seen: string[] = []): Promise<string> {
  let hit: string | undefined;
  await vi.waitFor(
    async () => {
      const { messages } = await web.fetchNew();
      seen.push(...messages.map((m) => m.text));
      hit = hit ?? seen.find((m) => pattern.test(m));
      if (!hit) throw new Error(`no message matching ${pattern}; saw:\n${seen.join('\n---\n')}`);
    },
    { timeout: 5000, interval: 25 },
  );
  return hit!;
}

const placeOf = async (t: TestApp, caseId: string) => {
  const row = await t.app.db.case.findUniqueOrThrow({ where: { id: caseId } });
  return row.level === 'group' ? 'group' : (await t.app.db.area.findUniqueOrThrow({ where: { id: row.handlingAreaId! } })).code;
};

describe('levels are data: the imported tree decides how a case climbs', () => {
  it('a tree with a middle level: group -> commune police -> district police -> province police, per-level timers, then overdue', async () => {
    // Level factors: group x1, the commune x2, the district x3, the province (last, repeated) x4.
    const { t, clock } = await start({ ESCALATION_URGENT_MINUTES: '10', ESCALATION_LEVEL_FACTORS: '1,2,3,4' });
    await importAreas(t.app.db, TREE_WITH_DISTRICT);
    const stored = await t.app.db.area.findUniqueOrThrow({ where: { code: 'XP-D-A' } });
    expect(stored).toMatchObject({ level: 'commune', levelName: 'Xã', policeUnit: 'Công an xã An Bình' });

    const resident = await onboardWeb(t.baseUrl, 'XPAN234');
    const officers = { commune: await onboardWeb(t.baseUrl, 'XPAN234'), district: await onboardWeb(t.baseUrl, 'XPAN234'), province: await onboardWeb(t.baseUrl, 'XPAN234') };
    const id = async (w: WebClient) => (await personOf(t.app, 'web', w.session)).id;
    await makeOfficer(t.app, await id(officers.commune), 'XP-D-A');
    await makeOfficer(t.app, await id(officers.district), 'XP-D');
    await makeOfficer(t.app, await id(officers.province), 'XP');
    const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'XP-D-A-1' } });
    const svc = t.app.services.cases;
    const created = await svc.create(await id(resident), { groupId: group.id, category: 'fire', urgent: false, description: 'Cháy rơm ở đầu thôn', anonymous: true });
    // Police matters reach the nearest police unit at once, and the report says which one.
    expect(created.told).toEqual({ leaders: 0, police: 1, unit: 'Công an xã An Bình' });
    const c = created.case;

    clock.advance(9 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 10: the group's time (x1) is up
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('XP-D-A');
    await waitForText(officers.commune, new RegExp(`⏰ ${c.ref} chưa được ai tiếp nhận đúng hạn nên đã tự động chuyển cho Công an xã An Bình`));

    clock.advance(19 * MINUTE); // 29
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 30: the commune's 20 minutes (x2)
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('XP-D');
    await waitForText(officers.district, new RegExp(`chuyển cho Công an huyện Đông`));

    clock.advance(29 * MINUTE); // 59
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE); // 60: the district's 30 minutes (x3)
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('XP');
    await waitForText(officers.province, new RegExp(`chuyển cho Công an tỉnh Xuân Phong`));

    // The province is the top: its 40 minutes (x4) run out and the case is flagged, its officers told.
    clock.advance(39 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0);
    clock.advance(1 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    await waitForText(officers.province, new RegExp(`🔴 QUÁ HẠN: ${c.ref} đã hết thời gian ở cấp cao nhất \\(Công an tỉnh Xuân Phong\\)`));
    const row = await t.app.db.case.findUniqueOrThrow({ where: { id: c.id } });
    expect(row.overdueAt?.toISOString()).toBe(clock.now().toISOString());
    expect(row.escalateAt).toBeNull();
    clock.advance(60 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(0); // flagged once

    // The handler's card names the real unit and the overdue mark; nobody can climb further.
    const view = await svc.handlerView(await id(officers.province), c.id, (k, p) => t.app.translator.t('vi', k, p), 'vi');
    expect(view.text).toMatch(/Cấp xử lý: Công an tỉnh Xuân Phong 🔴 quá hạn/);
    expect(await svc.handlerActions(await id(officers.province), view.case)).not.toContain('case.escalate');
    // Every step is in the case events, with the unit.
    const events = await t.app.db.caseEvent.findMany({ where: { caseId: c.id, type: { in: ['escalated', 'overdue'] } }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => [e.type, (JSON.parse(e.detail) as { to?: string }).to ?? null])).toEqual([
      ['escalated', 'XP-D-A'],
      ['escalated', 'XP-D'],
      ['escalated', 'XP'],
      ['overdue', null],
    ]);
  });

  it('an English-speaking officer is told of the overdue case in English; a handler escalates by hand one unit up', async () => {
    const { t, clock } = await start({ ESCALATION_URGENT_MINUTES: '5' });
    await importAreas(t.app.db, TREE_WITH_DISTRICT);
    const resident = await onboardWeb(t.baseUrl, 'XPAN234');
    const commune = await onboardWeb(t.baseUrl, 'XPAN234');
    const province = await onboardWeb(t.baseUrl, 'XPAN234');
    const id = async (w: WebClient) => (await personOf(t.app, 'web', w.session)).id;
    await makeOfficer(t.app, await id(commune), 'XP-D-A');
    await makeOfficer(t.app, await id(province), 'XP');
    await t.app.db.person.update({ where: { id: await id(province) }, data: { locale: 'en' } });
    const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'XP-D-A-1' } });
    const svc = t.app.services.cases;
    const c = (await svc.create(await id(resident), { groupId: group.id, category: 'security', urgent: false, description: 'Trộm xe máy', anonymous: false })).case;

    // By hand, one unit at a time: from the group to the commune police, then on to the district.
    expect(await placeOf(t, (await svc.escalate(await id(commune), c.id)).id)).toBe('XP-D-A');
    const after = await svc.escalate(await id(commune), c.id);
    expect(await placeOf(t, after.id)).toBe('XP-D');
    expect(await svc.levelText(after, (k, p) => t.app.translator.t('vi', k, p))).toBe('Công an huyện Đông');
    clock.advance(5 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('XP');
    clock.advance(5 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    await waitForText(province, new RegExp(`🔴 OVERDUE: nobody acknowledged ${c.ref} in time at the top level \\(Công an tỉnh Xuân Phong\\)`));
  });

  it('a tree imported without police units still climbs every area above the group', async () => {
    const { t, clock } = await start({ ESCALATION_URGENT_MINUTES: '5' });
    await importAreas(t.app.db, {
      areas: [
        { code: 'OLD', name: 'Tỉnh Cũ', level: 'province' },
        { code: 'OLD-W', name: 'Phường Cũ', level: 'ward', parent: 'OLD' },
      ],
      groups: [{ code: 'OLD-W-1', name: 'Tổ 1', area: 'OLD-W', inviteCode: 'CUWW234' }],
    });
    const resident = await onboardWeb(t.baseUrl, 'CUWW234');
    const officer = await onboardWeb(t.baseUrl, 'CUWW234');
    const officerId = (await personOf(t.app, 'web', officer.session)).id;
    await makeOfficer(t.app, officerId, 'OLD-W');
    const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'OLD-W-1' } });
    const svc = t.app.services.cases;
    const c = (await svc.create((await personOf(t.app, 'web', resident.session)).id, { groupId: group.id, category: 'drugs', urgent: false, description: 'x', anonymous: true })).case;
    clock.advance(5 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('OLD-W');
    await waitForText(officer, /chuyển cho Công an phường Cũ/);
    clock.advance(5 * MINUTE);
    expect(await svc.escalateOverdue()).toBe(1);
    expect(await placeOf(t, c.id)).toBe('OLD');
  });

  it('refuses a level factor list that is not numbers', async () => {
    const { parseConfig } = await import('../../src/config.js');
    expect(() => parseConfig({ ESCALATION_LEVEL_FACTORS: '1,x' })).toThrow(/ESCALATION_LEVEL_FACTORS/);
    expect(parseConfig({ ESCALATION_LEVEL_FACTORS: '1, 1, 2' }).escalation.levelFactors).toEqual([1, 1, 2]);
    expect(parseConfig({}).escalation.levelFactors).toEqual([1]);
  });
});

describe('the 2025 map: demo tree, sample CSV, placement', () => {
  it('the sample CSV imports levels, level names and police units; the demo tree has no district level', async () => {
    const { t } = await start();
    const { readFileSync } = await import('node:fs');
    const root = path.resolve(import.meta.dirname, '..', '..');
    const csv = csvToAreaDocument(readFileSync(path.join(root, 'prisma', 'seed', 'sample-province.csv'), 'utf8'));
    expect(csv.problems).toEqual([]);
    await importAreas(t.app.db, csv.document);
    const areas = await t.app.db.area.findMany({ orderBy: { code: 'asc' } });
    expect(areas.find((a) => a.code === 'LD')).toMatchObject({ name: 'Tỉnh Lâm Đồng', level: 'province', levelName: 'Tỉnh', policeUnit: 'Công an tỉnh Lâm Đồng' });
    expect(areas.find((a) => a.code === 'LD-MN')).toMatchObject({ name: 'Phường Mũi Né', policeUnit: 'Công an phường Mũi Né' });
    expect(areas.find((a) => a.code === 'LD-PQ')).toMatchObject({ name: 'Đặc khu Phú Quý', level: 'special', levelName: 'Đặc khu' });
    expect(areas.some((a) => a.level === 'district')).toBe(false);

    const demo = JSON.parse(readFileSync(path.join(root, 'prisma', 'seed', 'demo-areas.json'), 'utf8')) as { areas: Array<{ level: string; name: string; policeUnit?: string }> };
    expect(demo.areas.some((a) => a.level === 'district' || /^(Quận|Huyện)/.test(a.name))).toBe(false);
    expect(demo.areas.every((a) => a.policeUnit?.startsWith('Công an '))).toBe(true);
    expect(demo.areas.map((a) => a.name)).toEqual(expect.arrayContaining(['Thành phố Hà Nội', 'Tỉnh Lâm Đồng', 'Phường Ba Đình', 'Phường Giảng Võ', 'Phường Ngọc Hà', 'Phường Mũi Né', 'Phường Phan Thiết', 'Phường Hàm Thắng']));
  });

  it('placement on the web asks province -> commune/ward (named as the tree names it) -> residential group', async () => {
    const { t } = await start({ DEMO_DATA: 'on' });
    const { createWebClient, texts } = await import('../helpers/web-client.js');
    const web = createWebClient(t.baseUrl);
    let r = await web.say('/start');
    r = await web.pick(r, 'Tiếng Việt');
    r = await web.pick(r, 'Tôi đồng ý');
    r = await web.pick(r, 'Chọn theo tỉnh');
    expect(texts(r)).toMatch(/Chọn tỉnh\/thành phố:/);
    r = await web.pick(r, 'Tỉnh Lâm Đồng');
    expect(texts(r)).toMatch(/Chọn phường\/đặc khu thuộc Tỉnh Lâm Đồng:/);
    r = await web.pick(r, 'Phường Mũi Né');
    expect(texts(r)).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\) thuộc Phường Mũi Né:/);
    r = await web.pick(r, 'Khu phố 3');
    r = await web.pick(r, 'Không, giữ kín');
    expect(texts(r)).toMatch(/Bạn đã tham gia Khu phố 3 \(Phường Mũi Né\)/);
  });
});

describe('existing databases keep working', () => {
  it('the migration maps old ward/district cases to the areas whose police handled them, and names the units', async () => {
    const dir = tempDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'bot.db');
    const conn = new Database(file);
    conn.exec(MIGRATIONS_TABLE_SQL);
    const target: MigrationTarget = {
      async exec(sql) {
        conn.exec(sql);
      },
      async appliedNames() {
        return new Set((conn.prepare('SELECT migration_name FROM _prisma_migrations').all() as { migration_name: string }[]).map((r) => r.migration_name));
      },
      async record(m, id) {
        conn.prepare('INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count, started_at) VALUES (?, ?, ?, ?, 1, ?)').run(id, m.checksum, Date.now(), m.name, Date.now());
      },
      async transaction(fn) {
        await fn();
      },
    };
    const all = readMigrations(path.resolve(import.meta.dirname, '..', '..', 'prisma', 'migrations'));
    await applyMigrations(target, all.filter((m) => m.name < '20261201130000_area_levels'));
    const now = Date.now();
    const area = conn.prepare('INSERT INTO "Area" ("id", "code", "name", "level", "parentId", "createdAt") VALUES (?, ?, ?, ?, ?, ?)');
    area.run('a-p', 'HN', 'Thành phố Hà Nội', 'province', null, now);
    area.run('a-d', 'HN-BD', 'Quận Ba Đình', 'district', 'a-p', now);
    area.run('a-w', 'HN-BD-KM', 'Phường Kim Mã', 'ward', 'a-d', now);
    const kase = conn.prepare(
      'INSERT INTO "Case" ("id", "ref", "alias", "areaId", "category", "level", "description", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    kase.run('c-g', 'PA-AAAA', 'AAAA', 'a-w', 'fire', 'group', 'x', now, now);
    kase.run('c-w', 'PA-BBBB', 'BBBB', 'a-w', 'fire', 'ward', 'x', now, now);
    kase.run('c-d', 'PA-CCCC', 'CCCC', 'a-w', 'fire', 'district', 'x', now, now);
    conn.close();

    const { db, close } = await openDatabase(`file:${file}`);
    try {
      const cases = await db.case.findMany({ orderBy: { ref: 'asc' }, select: { ref: true, level: true, handlingAreaId: true, overdueAt: true } });
      expect(cases).toEqual([
        { ref: 'PA-AAAA', level: 'group', handlingAreaId: null, overdueAt: null },
        { ref: 'PA-BBBB', level: 'area', handlingAreaId: 'a-w', overdueAt: null },
        { ref: 'PA-CCCC', level: 'area', handlingAreaId: 'a-d', overdueAt: null },
      ]);
      const areas = await db.area.findMany({ orderBy: { code: 'asc' }, select: { code: true, levelName: true, policeUnit: true } });
      expect(areas).toEqual([
        { code: 'HN', levelName: 'tỉnh/thành phố', policeUnit: 'Công an thành phố Hà Nội' },
        { code: 'HN-BD', levelName: 'quận/huyện', policeUnit: 'Công an quận Ba Đình' },
        { code: 'HN-BD-KM', levelName: 'xã/phường', policeUnit: 'Công an phường Kim Mã' },
      ]);
    } finally {
      await close();
    }
  });
});
