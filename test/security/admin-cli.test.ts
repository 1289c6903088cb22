/**
 * L3 / issue 8 item 2: the admin CLI validates every id per channel, never creates an account
 * unless told --create (and then in DEFAULT_LOCALE), refuses web chat ids that are not
 * existing accounts (and says that web accounts get no role without a messenger link), and
 * a mistake creates nobody. The review's reproduction: `web:x`, `telegram:notanumber` and a
 * 5,000-character `zalo:` id were all accepted and created ghost people with roles.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/admin/cli.js';
import { openDatabase } from '../../src/persistence/database.js';
import { dropTestDatabase, tempDir, testDatabaseUrl } from '../helpers/test-app.js';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

type Db = Awaited<ReturnType<typeof openDatabase>>['db'];

async function withDb<T>(env: Record<string, string>, fn: (db: Db) => Promise<T>): Promise<T> {
  const { db, close } = await openDatabase(env.DATABASE_URL!);
  try {
    return await fn(db);
  } finally {
    await close();
  }
}

/** A database with one area (AR) and one group (AR-01), made directly so the test does not depend on the demo tree. */
async function fresh(extra: Record<string, string> = {}) {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => dropTestDatabase(testDatabaseUrl(dir)));
  const env = { DATABASE_URL: testDatabaseUrl(dir), ...extra };
  await withDb(env, async (db) => {
    const area = await db.area.create({ data: { code: 'AR', name: 'Phường Thử', level: 'ward' } });
    await db.group.create({ data: { code: 'AR-01', name: 'Tổ 1', areaId: area.id, inviteCode: 'TESTAR01' } });
  });
  return env;
}

async function admin(env: Record<string, string>, ...argv: string[]) {
  const lines: string[] = [];
  const code = await runAdmin(argv, env, (l) => lines.push(l));
  return { code, lines, text: lines.join('\n') };
}

const counts = (env: Record<string, string>) =>
  withDb(env, async (db) => ({ people: await db.person.count(), accounts: await db.channelAccount.count(), grants: await db.roleGrant.count(), memberships: await db.membership.count() }));
const NOTHING = { people: 0, accounts: 0, grants: 0, memberships: 0 };

describe('admin CLI: ids are checked per channel (L3)', () => {
  it('refuses the review\'s ids: web:x, telegram:notanumber, a 5,000-character zalo id; nothing is created', async () => {
    const env = await fresh({ DEFAULT_LOCALE: 'en' });
    const tries: Array<[string, RegExp]> = [
      ['web:x', /a web chat id is 8-64 characters/],
      ['telegram:notanumber', /a Telegram user id is a positive whole number/],
      ['telegram:-5', /a Telegram user id is a positive whole number/],
      ['telegram:0123', /a Telegram user id/],
      ['telegram:123456789012345678901', /a Telegram user id/],
      [`zalo:${'a'.repeat(5000)}`, /a Zalo user id is 8-32 hexadecimal characters/],
      ['zalo:not-hex-at-all', /a Zalo user id/],
    ];
    for (const [who, expected] of tries) {
      for (const role of ['officer', 'admin']) {
        const r = await admin(env, 'grant', role, who, ...(role === 'officer' ? ['AR'] : []), '--create');
        expect(r.code, who).toBe(1);
        expect(r.text, who).toMatch(expected);
        expect(r.text.length, who).toBeLessThan(400); // a huge id is not echoed whole
      }
    }
    expect(await counts(env)).toEqual(NOTHING);
  }, 120_000);

  it('a Telegram or Zalo account that never wrote gets nothing without --create; with --create it is made in DEFAULT_LOCALE', async () => {
    const env = await fresh({ DEFAULT_LOCALE: 'en' });
    const refused = await admin(env, 'grant', 'officer', 'telegram:123456789', 'AR');
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(/telegram:123456789 has never written to the bot, so nothing was granted.*--create/);
    expect((await admin(env, 'grant', 'leader', 'zalo:6ede9afa66b88fe6d6a9', 'AR-01')).code).toBe(1);
    expect(await counts(env)).toEqual(NOTHING);
    // A wrong scope with --create creates nobody either.
    expect((await admin(env, 'grant', 'officer', 'telegram:123456789', 'NOWHERE', '--create')).text).toMatch(/There is no area with code "NOWHERE"/);
    expect((await admin(env, 'grant', 'leader', 'telegram:123456789', 'NOPE-01', '--create')).text).toMatch(/no residential group with code "NOPE-01"/);
    expect((await admin(env, 'grant', 'admin', 'telegram:123456789', 'AR', '--create')).text).toMatch(/Administrators act everywhere/);
    expect(await counts(env)).toEqual(NOTHING);

    const created = await admin(env, 'grant', 'officer', 'telegram:123456789', 'AR', '--create');
    expect(created).toMatchObject({ code: 0 });
    expect(created.lines[0]).toBe('Granted the police officer role to telegram:123456789 (AR).');
    expect(created.lines[1]).toMatch(/has not written to the bot yet/);
    const leader = await admin(env, 'grant', 'leader', 'zalo:6ede9afa66b88fe6d6a9', 'AR-01', '--create');
    expect(leader.code).toBe(0);
    const people = await withDb(env, (db) => db.person.findMany({ include: { accounts: true } }));
    expect(people.map((p) => [p.accounts[0]!.channel, p.locale]).sort()).toEqual([
      ['telegram', 'en'],
      ['zalo', 'en'],
    ]);
    // Once the account exists, no --create is needed.
    expect((await admin(env, 'grant', 'admin', 'telegram:123456789')).code).toBe(0);
    // Revoking never creates anyone.
    const ghost = await admin(env, 'revoke', 'officer', 'telegram:987654321', 'AR');
    expect(ghost.code).toBe(1);
    expect(ghost.text).toMatch(/never written to the bot and has no role/);
    expect((await admin(env, 'revoke', 'officer', 'telegram:987654321', 'AR', '--create')).code).toBe(1);
    expect((await counts(env)).people).toBe(2);
  }, 120_000);

  it('Vietnamese by default: the refusal and the --create hint are in DEFAULT_LOCALE vi', async () => {
    const env = await fresh();
    const r = await admin(env, 'grant', 'officer', 'telegram:123456789', 'AR');
    expect(r.text).toMatch(/^telegram:123456789 chưa từng nhắn tin với bot nên chưa cấp gì\..*--create/);
    expect((await admin(env, 'grant', 'officer', 'telegram:123456789', 'AR', '--create')).code).toBe(0);
    expect(await withDb(env, (db) => db.person.findFirstOrThrow().then((p) => p.locale))).toBe('vi');
  }, 120_000);
});

describe('admin CLI: finding the id to grant to', () => {
  it('`accounts` lists the accounts that wrote to the bot, newest first, filtered by name, username or id', async () => {
    const env = await fresh({ DEFAULT_LOCALE: 'en' });
    expect((await admin(env, 'accounts')).lines).toEqual(['No account matches: the person must send /start to the bot first.']);
    await withDb(env, async (db) => {
      await db.person.create({ data: { accounts: { create: { channel: 'telegram', externalId: '123456789', chatId: '123456789', displayName: 'Nguyễn Văn An', username: 'an_nguyen', lastSeenAt: new Date(Date.now() - 60_000) } } } });
      await db.person.create({ data: { accounts: { create: { channel: 'zalo', externalId: '6ede9afa66b88fe6d6a9', chatId: '6ede9afa66b88fe6d6a9', displayName: 'Trần Thị Bình' } } } });
    });
    const all = await admin(env, 'accounts');
    expect(all.code).toBe(0);
    expect(all.lines).toEqual([
      expect.stringMatching(/^zalo:6ede9afa66b88fe6d6a9  Trần Thị Bình  last seen \d/),
      expect.stringMatching(/^telegram:123456789  Nguyễn Văn An \(@an_nguyen\)  last seen \d/),
    ]);
    expect((await admin(env, 'accounts', 'Văn An')).lines).toHaveLength(1);
    expect((await admin(env, 'accounts', 'an_ng')).lines[0]).toMatch(/^telegram:123456789/);
    // The id found there needs no --create.
    expect((await admin(env, 'grant', 'officer', 'telegram:123456789', 'AR')).code).toBe(0);
  }, 120_000);
});

describe('admin CLI: web chat ids (H3, L3)', () => {
  it('refuses a grant to a web id that is not an existing account, also with --create, and says why', async () => {
    const env = await fresh({ DEFAULT_LOCALE: 'en' });
    for (const role of ['officer', 'admin', 'leader']) {
      const scope = role === 'officer' ? ['AR'] : role === 'leader' ? ['AR-01'] : [];
      const r = await admin(env, 'grant', role, 'web:ward-officer-kim-ma', ...scope);
      expect(r.code).toBe(1);
      expect(r.text).toMatch(/is not a web chat account of this service, so nothing was granted.*links it to their Telegram or Zalo account/);
      const c = await admin(env, 'grant', role, 'web:ward-officer-kim-ma', ...scope, '--create');
      expect(c.code).toBe(1);
      expect(c.text).toMatch(/web chat accounts are created by the server only/);
    }
    expect(await counts(env)).toEqual(NOTHING);
  }, 120_000);

  it('an existing web account can be granted, with the warning that it acts as a resident until linked to a messenger', async () => {
    const env = await fresh({ DEFAULT_LOCALE: 'en' });
    const webId = 'wabcdefghijklmnop';
    await withDb(env, (db) => db.person.create({ data: { accounts: { create: { channel: 'web', externalId: webId, chatId: webId } } } }));
    const r = await admin(env, 'grant', 'officer', `web:${webId}`, 'AR');
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([`Granted the police officer role to web:${webId} (AR).`, expect.stringMatching(/not linked to a Telegram or Zalo account, so it acts as a resident/)]);
    // Linked to Telegram: no warning.
    await withDb(env, async (db) => {
      const account = await db.channelAccount.findFirstOrThrow({ where: { externalId: webId } });
      await db.channelAccount.create({ data: { personId: account.personId, channel: 'telegram', externalId: '55555', chatId: '55555' } });
    });
    expect((await admin(env, 'grant', 'leader', `web:${webId}`, 'AR-01')).lines).toEqual([`Granted the group leader role to web:${webId} (AR-01).`]);
  }, 120_000);
});
