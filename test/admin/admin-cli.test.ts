/**
 * `npm run admin -- <command>` on a real SQLite file: importing the sample province (CSV) and a
 * JSON tree, re-importing, refusing a broken file with every problem named by line and field,
 * granting and revoking roles (officers scoped to an area and everything below it), the audit
 * log, and ADMIN_IDS at start-up.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/admin/cli.js';
import { openDatabase } from '../../src/persistence/database.js';
import { CODE_ALPHABET } from '../../src/core/codes.js';
import { dropTestDatabase, startTestApp, tempDir, testDatabaseUrl, type TestApp } from '../helpers/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'prisma', 'seed', 'sample-province.csv');

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A fresh database folder, removed after the test. */
function freshDir(): { dir: string; env: Record<string, string> } {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => dropTestDatabase(testDatabaseUrl(dir)));
  return { dir, env: { DATABASE_URL: testDatabaseUrl(dir) } };
}

/** Runs one admin command; returns its exit code and the lines it printed. */
async function admin(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; lines: string[]; text: string }> {
  const lines: string[] = [];
  const code = await runAdmin(argv, env, (line) => lines.push(line));
  return { code, lines, text: lines.join('\n') };
}

/** Opens the same database file to look at what the command left. */
async function inspect<T>(env: Record<string, string>, look: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
  const { db, close } = await openDatabase(env.DATABASE_URL!);
  try {
    return await look(db);
  } finally {
    await close();
  }
}

function writeTemp(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text, 'utf8');
  return file;
}

const INVITE = new RegExp(`^[${CODE_ALPHABET}]{7}$`);

describe('admin CLI: importing the area tree', () => {
  it('imports the sample province: counts, the tree, policies and invite codes; a second import changes nothing', async () => {
    const { env } = freshDir();
    const first = await admin(env, 'import', SAMPLE);
    expect(first).toMatchObject({ code: 0 });
    expect(first.text).toBe('Đã nạp 6 khu vực và 8 tổ dân phố.');

    const snapshot = () =>
      inspect(env, async (db) => ({
        areas: await db.area.findMany({ orderBy: { code: 'asc' }, include: { parent: true } }),
        groups: await db.group.findMany({ orderBy: { code: 'asc' }, include: { area: true } }),
      }));
    const before = await snapshot();
    expect(before.areas.map((a) => [a.code, a.level, a.parent?.code ?? null])).toEqual([
      ['LD', 'province', null],
      ['LD-HT', 'ward', 'LD'],
      ['LD-MN', 'ward', 'LD'],
      ['LD-PQ', 'special', 'LD'],
      ['LD-PT', 'ward', 'LD'],
      ['LD-XH', 'ward', 'LD'],
    ]);
    expect(before.areas.find((a) => a.code === 'LD-MN')).toMatchObject({ name: 'Phường Mũi Né', levelName: 'Phường', policeUnit: 'Công an phường Mũi Né' });
    const byCode = Object.fromEntries(before.groups.map((g) => [g.code, g]));
    expect(Object.keys(byCode)).toHaveLength(8);
    expect(byCode['LD-MN-03']).toMatchObject({ name: 'Khu phố 3', inviteCode: 'MNK345', joinPolicy: 'open' });
    expect(byCode['LD-MN-05']).toMatchObject({ name: 'Khu phố 5', inviteCode: 'MNK567', joinPolicy: 'approval' });
    expect(byCode['LD-XH-04']!.joinPolicy).toBe('approval');
    expect(byCode['LD-PT-01']!.area.code).toBe('LD-PT');
    // A quoted field keeps its comma.
    expect(byCode['LD-PQ-02']!.name).toBe('Thôn 2, tổ 1');
    // Groups without a code in the file get one from the unambiguous alphabet.
    for (const code of ['LD-PT-02', 'LD-XH-04', 'LD-PQ-02']) expect(byCode[code]!.inviteCode).toMatch(INVITE);
    expect(new Set(before.groups.map((g) => g.inviteCode)).size).toBe(8);

    // `areas` shows the tree with codes and policies.
    const tree = await admin(env, 'areas');
    expect(tree.code).toBe(0);
    expect(tree.lines).toContain('Tỉnh Lâm Đồng [LD]');
    expect(tree.lines).toContain('  Đặc khu Phú Quý [LD-PQ]');
    expect(tree.lines).toContain('  Phường Mũi Né [LD-MN]');
    expect(tree.lines).toContain('    • Khu phố 5 [LD-MN-05] mã mời MNK567 (cần duyệt)');

    // Re-import: same counts, same rows, generated invite codes kept.
    const again = await admin(env, 'import', SAMPLE);
    expect(again).toMatchObject({ code: 0, text: 'Đã nạp 6 khu vực và 8 tổ dân phố.' });
    const after = await snapshot();
    expect(after.areas.map((a) => [a.id, a.code, a.parentId])).toEqual(before.areas.map((a) => [a.id, a.code, a.parentId]));
    expect(after.groups.map((g) => [g.id, g.code, g.inviteCode, g.joinPolicy, g.areaId])).toEqual(
      before.groups.map((g) => [g.id, g.code, g.inviteCode, g.joinPolicy, g.areaId]),
    );
  });

  it('a broken CSV reports every problem with its line and field, and imports nothing', async () => {
    const { dir, env } = freshDir();
    const file = writeTemp(
      dir,
      'broken.csv',
      [
        'kind,code,name,parent,level,join_policy,invite_code',
        'area,XA,Tỉnh Xa,,province,,', // 2: fine
        'area,XA-D,,XA,district,,', // 3: no name
        'area,XA-D-W,Phường W,XA-D,village,,', // 4: bad level
        'area,XA-Q-W,Phường Q,XA-NOPE,ward,,', // 5: unknown parent
        'group,XA-G1,Tổ 1,XA-D-W,,sometimes,AB0O', // 6: bad policy, invite code with 0 and O
        'group,XA-G2,Tổ 2,XA-NOWHERE,,open,', // 7: unknown ward
        'thing,XX,What,,,,', // 8: unknown kind
        'group,XA-G3,Tổ 3,XA-D-W,,open,KMTT234', // 9: fine
        'group,XA-G4,Tổ 4,XA-D-W,,open,kmtt234', // 10: the same invite code as line 9 (case-insensitive)
      ].join('\n'),
    );
    const result = await admin(env, 'import', file);
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'Dòng 3, cột name: không được để trống',
      'Dòng 4, cột level: phải là một trong: province, district, commune, ward, special',
      expect.stringMatching(/^Dòng 5, cột parent: không có khu vực "XA-NOPE"/),
      expect.stringMatching(/^Dòng 6, cột (invite_code|join_policy): /),
      expect.stringMatching(/^Dòng 6, cột (invite_code|join_policy): /),
      expect.stringMatching(/^Dòng 7, cột parent: không có khu vực "XA-NOWHERE"/),
      'Dòng 8, cột kind: phải là "area" hoặc "group"',
      expect.stringMatching(/^Dòng 10, cột invite_code: .*KMTT234/),
      'Không nạp gì cả: 8 lỗi cần sửa.',
    ]);
    expect(result.text).toContain('Dòng 6, cột invite_code: mã mời phải gồm 4-12 ký tự');
    expect(result.text).toContain('Dòng 6, cột join_policy: phải là một trong: open, approval');
    expect(await inspect(env, async (db) => [await db.area.count(), await db.group.count()])).toEqual([0, 0]);

    // Only reference problems (everything else fine): still every one, still nothing imported.
    const refs = writeTemp(
      dir,
      'refs.csv',
      [
        'kind,code,name,parent,level,join_policy,invite_code',
        'area,YA,Tỉnh Ya,,province,,',
        'area,YA-D,Huyện D,YA-NOPE,district,,',
        'group,YA-G1,Tổ 1,YA-NOWHERE,,open,',
      ].join('\n'),
    );
    const refResult = await admin(env, 'import', refs);
    expect(refResult.code).toBe(1);
    expect(refResult.lines).toEqual([
      'Dòng 3, cột parent: không có khu vực "YA-NOPE" ở trên',
      'Dòng 4, cột parent: không có khu vực "YA-NOWHERE" ở trên',
      'Không nạp gì cả: 2 lỗi cần sửa.',
    ]);
    expect(await inspect(env, (db) => db.area.count())).toBe(0);

    // An invite code already used by another group in the database is refused too, with its line.
    expect((await admin(env, 'import', SAMPLE)).code).toBe(0);
    const taken = writeTemp(dir, 'taken.csv', ['kind,code,name,parent,level,join_policy,invite_code', 'group,LD-MN-09,Khu phố mới,LD-MN,,open,mnk345'].join('\n'));
    const takenResult = await admin(env, 'import', taken);
    expect(takenResult.code).toBe(1);
    expect(takenResult.lines[0]).toMatch(/^Dòng 2, cột invite_code: .*MNK345/);
    expect(await inspect(env, (db) => db.group.count())).toBe(8);

    // A file that is not there.
    expect(await admin(env, 'import', path.join(dir, 'nope.csv'))).toMatchObject({ code: 1, text: expect.stringMatching(/Không đọc được tệp/) });
  });

  it('imports a JSON file, and a JSON file with errors names each entry and field', async () => {
    const { dir, env } = freshDir();
    const good = writeTemp(
      dir,
      'tree.json',
      JSON.stringify({
        areas: [
          { code: 'HP', name: 'Thành phố Hải Phòng', level: 'province' },
          { code: 'HP-LC', name: 'Quận Lê Chân', level: 'district', parent: 'HP' },
          { code: 'HP-LC-AB', name: 'Phường An Biên', level: 'ward', parent: 'HP-LC' },
        ],
        groups: [
          { code: 'HP-LC-AB-01', name: 'Tổ dân phố 1 An Biên', area: 'HP-LC-AB', inviteCode: 'abtp234', joinPolicy: 'approval' },
          { code: 'HP-LC-AB-02', name: 'Tổ dân phố 2 An Biên', area: 'HP-LC-AB' },
        ],
      }),
    );
    expect(await admin(env, 'import', good)).toMatchObject({ code: 0, text: 'Đã nạp 3 khu vực và 2 tổ dân phố.' });
    const groups = await inspect(env, (db) => db.group.findMany({ orderBy: { code: 'asc' }, include: { area: { include: { parent: true } } } }));
    expect(groups.map((g) => [g.code, g.inviteCode.length, g.joinPolicy, g.area.code, g.area.parent?.code])).toEqual([
      ['HP-LC-AB-01', 7, 'approval', 'HP-LC-AB', 'HP-LC'],
      ['HP-LC-AB-02', 7, 'open', 'HP-LC-AB', 'HP-LC'],
    ]);
    expect(groups[0]!.inviteCode).toBe('ABTP234'); // stored canonical (upper case)

    const bad = writeTemp(
      dir,
      'bad.json',
      JSON.stringify({
        areas: [{ code: 'QN', name: 'Tỉnh Quảng Ninh', level: 'state' }],
        groups: [{ code: 'QN-01', name: '', area: 'QN' }],
      }),
    );
    const result = await admin(env, 'import', bad);
    expect(result.code).toBe(1);
    expect(result.lines).toContain('areas.0, trường level: phải là một trong: province, district, commune, ward, special');
    expect(result.lines).toContain('groups.0, trường name: không được để trống');
    expect(result.lines.at(-1)).toBe('Không nạp gì cả: 2 lỗi cần sửa.');
    expect(await inspect(env, (db) => db.area.count())).toBe(3);

    const notJson = writeTemp(dir, 'not.json', '{ "areas": [');
    expect(await admin(env, 'import', notJson)).toMatchObject({ code: 1, text: expect.stringMatching(/^Tệp JSON không hợp lệ/) });
  });

  it('`npm run admin` works as a process: it imports the sample file', async () => {
    const { env } = freshDir();
    const child = spawn('npm', ['run', '--silent', 'admin', '--', 'import', SAMPLE], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Đã nạp 6 khu vực và 8 tổ dân phố.');
    expect(await inspect(env, async (db) => [await db.area.count(), await db.group.count()])).toEqual([6, 8]);
  }, 60_000);
});

describe('admin CLI: roles and the audit log', () => {
  it('grants and revokes leader, deputy, officer and admin; officers see cases below their area only; the audit log lists every change', async () => {
    const { dir, env } = freshDir();
    expect((await admin(env, 'import', SAMPLE)).code).toBe(0);
    const startedAt = new Date(Date.now() - 1000);

    // Leader and deputy are membership roles in a group.
    // Nobody has written to the bot yet: --create grants in advance (the account is made in DEFAULT_LOCALE).
    expect((await admin(env, 'grant', 'leader', 'telegram:111', 'LD-MN-03', '--create')).lines).toEqual([
      'Đã cấp vai trò tổ trưởng cho telegram:111 (LD-MN-03).',
      'telegram:111 chưa nhắn tin với bot: tài khoản vừa được tạo, vai trò có hiệu lực từ tin nhắn đầu tiên của người đó.',
    ]);
    expect((await admin(env, 'grant', 'deputy', 'zalo:7a1b2c3d4e5f6a7b8c9d', 'LD-MN-03', '--create')).lines[0]).toBe('Đã cấp vai trò tổ phó cho zalo:7a1b2c3d4e5f6a7b8c9d (LD-MN-03).');
    const memberships = () =>
      inspect(env, (db) =>
        db.membership.findMany({ include: { person: { include: { accounts: true } }, group: true }, orderBy: { createdAt: 'asc' } }).then((rows) =>
          rows.map((m) => [m.person.accounts[0]!.channel + ':' + m.person.accounts[0]!.externalId, m.group.code, m.role, m.state]),
        ),
      );
    expect(await memberships()).toEqual([
      ['telegram:111', 'LD-MN-03', 'leader', 'active'],
      ['zalo:7a1b2c3d4e5f6a7b8c9d', 'LD-MN-03', 'deputy', 'active'],
    ]);

    // Mistakes are explained, and change nothing.
    expect(await admin(env, 'grant', 'leader', 'telegram:111', 'NOPE-01')).toMatchObject({ code: 1, text: expect.stringMatching(/Không có tổ dân phố mã "NOPE-01"/) });
    expect(await admin(env, 'grant', 'officer', 'telegram:222', '--create')).toMatchObject({ code: 1, text: expect.stringMatching(/Vai trò cán bộ công an cần mã khu vực/) });
    expect(await admin(env, 'grant', 'officer', 'telegram:222', 'NOWHERE', '--create')).toMatchObject({ code: 1, text: expect.stringMatching(/Không có khu vực mã "NOWHERE"/) });
    expect(await admin(env, 'grant', 'king', 'telegram:222')).toMatchObject({ code: 1, text: expect.stringMatching(/Vai trò "king" không hợp lệ/) });
    expect(await admin(env, 'grant', 'officer', '222', 'LD-PT')).toMatchObject({ code: 1, text: expect.stringMatching(/không phải kênh:id/) });

    // The officer of ward LD-PT, and an admin; the running service sees them.
    // The mistakes above created nobody.
    expect(await inspect(env, (db) => db.channelAccount.count({ where: { externalId: '222' } }))).toBe(0);
    expect((await admin(env, 'grant', 'officer', 'telegram:222', 'LD-PT', '--create')).lines[0]).toBe('Đã cấp vai trò cán bộ công an cho telegram:222 (LD-PT).');
    expect(await admin(env, 'grant', 'officer', 'telegram:222', 'LD-PT')).toMatchObject({ code: 0, text: 'Đã cấp vai trò cán bộ công an cho telegram:222 (LD-PT).' }); // twice: still one grant
    expect((await admin(env, 'grant', 'admin', 'zalo:a41f93c0d8e2b7f65c13', '--create')).lines[0]).toBe('Đã cấp vai trò quản trị cho zalo:a41f93c0d8e2b7f65c13.');
    // The administrator who reads English gets the roles in English; the command takes the same words in both.
    expect((await admin({ ...env, DEFAULT_LOCALE: 'en' }, 'grant', 'officer', 'telegram:222', 'LD-PT')).text).toBe('Granted the police officer role to telegram:222 (LD-PT).');

    const t: TestApp = await startTestApp({ dir });
    cleanups.push(() => t.stop());
    const { app } = t;
    expect(await app.services.areas.isEmpty()).toBe(false);
    expect(await app.db.area.count()).toBe(6); // no demo tree on top of an imported one
    const person = async (channel: 'telegram' | 'zalo' | 'web', id: string) => (await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId: id } } })).personId;
    const officer = await person('telegram', '222');
    const adminId = await person('zalo', 'a41f93c0d8e2b7f65c13');
    expect(await app.db.roleGrant.count({ where: { personId: officer, revokedAt: null } })).toBe(1);

    // One case in ward LD-PT (Phan Thiết), one in ward LD-MN (Mũi Né).
    const reporter = await app.services.roles.personFor('zalo', 'zl-reporter-1');
    const lim = await app.db.group.findUniqueOrThrow({ where: { code: 'LD-PT-01' } });
    const vuNinh = await app.db.group.findUniqueOrThrow({ where: { code: 'LD-MN-03' } });
    for (const g of [lim, vuNinh]) await app.db.membership.create({ data: { groupId: g.id, personId: reporter, state: 'active' } });
    const draft = (groupId: string, description: string) => ({ groupId, category: 'order' as const, urgent: false, description, anonymous: true });
    const inLim = (await app.services.cases.create(reporter, draft(lim.id, 'Tiếng ồn ở Phan Thiết'))).case;
    const inVuNinh = (await app.services.cases.create(reporter, draft(vuNinh.id, 'Tiếng ồn ở Mũi Né'))).case;

    const queueRefs = async (personId: string) => (await app.services.cases.queue(personId)).map((c) => c.ref).sort();
    expect(await queueRefs(officer)).toEqual([inLim.ref]);
    expect(await queueRefs(adminId)).toEqual([inLim.ref, inVuNinh.ref].sort());
    expect(await queueRefs(await person('telegram', '111'))).toEqual([inVuNinh.ref]); // the leader of LD-MN-03
    expect(await app.services.groups.canManage(officer, lim.id)).toBe(true);
    expect(await app.services.groups.canManage(officer, vuNinh.id)).toBe(false);
    expect(await app.services.groups.canManage(adminId, vuNinh.id)).toBe(true);
    // The officer may open the Phan Thiết case as a handler, not the Mũi Né one.
    const tr = (key: string) => key;
    await expect(app.services.cases.handlerView(officer, inLim.id, tr, 'vi')).resolves.toMatchObject({ case: { ref: inLim.ref } });
    await expect(app.services.cases.handlerView(officer, inVuNinh.id, tr, 'vi')).rejects.toMatchObject({ code: 'cases:forbidden' });

    // Revoking (while the service runs) takes effect at once.
    expect(await admin(env, 'revoke', 'officer', 'telegram:222', 'LD-PT')).toMatchObject({ code: 0, text: 'Đã thu hồi 1 vai trò cán bộ công an của telegram:222.' });
    expect(await queueRefs(officer)).toEqual([]);
    expect(await admin(env, 'revoke', 'officer', 'telegram:222', 'LD-PT')).toMatchObject({ code: 0, text: 'Đã thu hồi 0 vai trò cán bộ công an của telegram:222.' });
    expect((await admin(env, 'revoke', 'admin', 'zalo:a41f93c0d8e2b7f65c13')).text).toBe('Đã thu hồi 1 vai trò quản trị của zalo:a41f93c0d8e2b7f65c13.');
    expect(await queueRefs(adminId)).toEqual([]);
    expect((await admin(env, 'revoke', 'leader', 'telegram:111', 'LD-MN-03')).text).toBe('Đã thu hồi 1 vai trò tổ trưởng của telegram:111.');
    expect((await admin(env, 'revoke', 'deputy', 'zalo:7a1b2c3d4e5f6a7b8c9d', 'LD-MN-03')).text).toBe('Đã thu hồi 1 vai trò tổ phó của zalo:7a1b2c3d4e5f6a7b8c9d.');
    expect(await queueRefs(await person('telegram', '111'))).toEqual([]);
    expect((await memberships()).filter(([who]) => who !== 'zalo:zl-reporter-1')).toEqual([
      ['telegram:111', 'LD-MN-03', 'member', 'active'],
      ['zalo:7a1b2c3d4e5f6a7b8c9d', 'LD-MN-03', 'member', 'active'],
    ]);

    // The audit log: every change, by the system, with its time; newest first.
    const rows = await app.db.auditLog.findMany({ where: { action: { startsWith: 'role.' } }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => [r.action, r.subject, r.actorId])).toEqual([
      ['role.leader.granted', `person:${await person('telegram', '111')}`, null],
      ['role.deputy.granted', `person:${await person('zalo', '7a1b2c3d4e5f6a7b8c9d')}`, null],
      ['role.officer.granted', `person:${officer}`, null],
      ['role.admin.granted', `person:${adminId}`, null],
      ['role.officer.revoked', `person:${officer}`, null],
      ['role.admin.revoked', `person:${adminId}`, null],
      ['role.leader.revoked', `person:${await person('telegram', '111')}`, null],
      ['role.deputy.revoked', `person:${await person('zalo', '7a1b2c3d4e5f6a7b8c9d')}`, null],
    ]);
    for (const r of rows) {
      expect(r.createdAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
      expect(r.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    }
    expect(JSON.parse(rows[2]!.detail)).toEqual({ area: 'LD-PT' });
    expect(JSON.parse(rows[0]!.detail)).toEqual({ group: 'LD-MN-03' });

    const audit = await admin(env, 'audit', '8');
    expect(audit.code).toBe(0);
    expect(audit.lines).toHaveLength(8);
    // Times as the CLI's language writes them: "14:05 01/12/2026" in Vietnamese (Vietnam time), day first.
    expect(audit.lines[0]).toMatch(new RegExp(`^\\d{2}:\\d{2} \\d{2}/\\d{2}/\\d{4}  hệ thống  role\\.deputy\\.revoked  person:\\S+  \\{"group":"LD-MN-03"\\}$`));
    expect(audit.lines.some((l) => /  hệ thống  role\.officer\.granted  person:\S+  \{"area":"LD-PT"\}$/.test(l))).toBe(true);
    const english = await admin({ ...env, DEFAULT_LOCALE: 'en' }, 'audit', '3');
    expect(english.lines.every((l) => l.includes('  system  role.'))).toBe(true);
    expect(english.lines[0]).toMatch(/^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}  system  role\.deputy\.revoked /);
  }, 60_000);

  it('ADMIN_IDS makes that account an admin at start-up, once, with an audit row', async () => {
    const { dir } = freshDir();
    let t = await startTestApp({ dir, env: { ADMIN_IDS: 'telegram:999' } });
    cleanups.push(() => t.stop());
    const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: '999' } } });
    expect(await t.app.services.actors.actor(account.personId)).toMatchObject({ admin: true });
    const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-02' } });
    expect(await t.app.services.groups.canManage(account.personId, group.id)).toBe(true);
    expect(await t.app.services.groups.canAppointDeputy(account.personId, group.id)).toBe(true);
    // Another account is not.
    const other = await t.app.services.roles.personFor('telegram', '998');
    expect(await t.app.services.actors.actor(other)).toMatchObject({ admin: false });

    // A restart with the same setting does not grant twice.
    await t.stop();
    t = await startTestApp({ dir, env: { ADMIN_IDS: 'telegram:999' } });
    cleanups.push(() => t.stop());
    expect(await t.app.db.roleGrant.count({ where: { personId: account.personId, role: 'admin', revokedAt: null } })).toBe(1);
    const audit = await t.app.db.auditLog.findMany({ where: { action: 'role.admin.granted' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: null, subject: `person:${account.personId}` });
  });
});
