/**
 * H3 of the security review, as regression tests: web chat identity is a server-issued cookie.
 *  - a self-chosen session string (in the body, in the URL, or as a cookie) is refused;
 *  - nothing secret travels in a URL; the database keeps only the token's SHA-256;
 *  - expired and revoked sessions are refused, and erasure ends the session;
 *  - cross-site posts (the review's text/plain reproduction) are refused;
 *  - roles never rest on the web session alone: they act once a messenger account is linked.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, TEST_POSTGRES_URL, type TestApp } from '../helpers/test-app.js';
import { createWebClient, sessionCookieOf, texts } from '../helpers/web-client.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { joinOnWeb } from '../helpers/onboarding.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

async function start(env: Record<string, string> = {}) {
  const t = await startTestApp({ env });
  running.push(t);
  return t;
}

const OFFICER_STRING = 'officerKMsess00000000001';

/** POST /api/web/session as the page does; returns the answer, its JSON and the cookie pair. */
async function newSession(baseUrl: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/api/web/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const data = res.ok ? ((await res.json()) as { session: string; locale: string; legacy?: string }) : undefined;
  return { res, data, cookie: sessionCookieOf(res) };
}

describe('web chat sessions are issued by the server (H3)', () => {
  it('refuses a self-chosen session string in the body, in the URL and as a cookie', async () => {
    const t = await start();
    // The review's reproduction: read and act as "officerKMsess00000000001" without any cookie.
    const read = await fetch(`${t.baseUrl}/api/web/messages?session=${OFFICER_STRING}&after=0`);
    expect(read.status).toBe(401);
    const act = await fetch(`${t.baseUrl}/api/web/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session: OFFICER_STRING, id: 'abcdefgh12', text: '/cases' }),
    });
    expect(act.status).toBe(401);
    // A made-up cookie of the right shape is no better.
    const forged = `chat_session=${'A'.repeat(43)}`;
    expect((await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: forged } })).status).toBe(401);
    expect((await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: forged }, body: JSON.stringify({ id: 'abcdefgh12', text: 'hi' }) })).status).toBe(401);
    // Nobody was created for those strings.
    expect(await t.app.db.channelAccount.count({ where: { externalId: OFFICER_STRING } })).toBe(0);
    expect(await t.app.db.person.count()).toBe(0);
  });

  it('sets an HttpOnly SameSite cookie, keeps only its hash, and reads the session from the cookie, never the URL', async () => {
    const t = await start();
    const { res, data, cookie } = await newSession(t.baseUrl);
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // plain http on a developer's machine
    const token = cookie!.slice('chat_session='.length);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);

    // The public id is server-chosen and not the token.
    expect(data!.session).toMatch(/^w[a-z2-7]{16}$/);
    const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: data!.session } } });
    const rows = await t.app.db.webSession.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(rows[0]!.accountId).toBe(account.id);

    // The public id in a URL reads nothing; the cookie does.
    expect((await fetch(`${t.baseUrl}/api/web/messages?session=${data!.session}&after=0`)).status).toBe(401);
    const post = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: cookie! }, body: JSON.stringify({ id: 'abcdefgh12', text: '/start' }) });
    expect(post.status).toBe(200);
    const got = await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: cookie! } });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { messages: unknown[] }).messages.length).toBeGreaterThan(0);

    // A second call with the cookie keeps the same session (no new person per page load).
    const again = await newSession(t.baseUrl, {}, { cookie: cookie! });
    expect(again.data!.session).toBe(data!.session);
    expect(again.cookie).toBeUndefined();
    expect(await t.app.db.person.count()).toBe(1);

    // The token is stored nowhere: not in any file of the database (main file and WAL).
    if (TEST_POSTGRES_URL) {
      // On PostgreSQL: not in any row of the session table (only its hash).
      const rows = JSON.stringify(await t.app.db.webSession.findMany());
      expect(rows.includes(token)).toBe(false);
      return;
    }
    await t.stop();
    const files = readdirSync(t.dir).filter((f) => f.startsWith('bot.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(readFileSync(path.join(t.dir, file)).includes(token), file).toBe(false);
  });

  it('marks the cookie Secure when PUBLIC_URL is https', async () => {
    const t = await start({ PUBLIC_URL: 'https://bot.example.vn' });
    const { res } = await newSession(t.baseUrl);
    expect(res.headers.getSetCookie().join('\n')).toMatch(/; Secure/);
  });

  it('refuses expired and revoked sessions, and a logged-out cookie', async () => {
    const t = await start();
    const expired = createWebClient(t.baseUrl);
    await expired.say('/start');
    await t.app.db.webSession.updateMany({ where: { account: { externalId: expired.session } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: expired.cookie! } })).status).toBe(401);

    const revoked = createWebClient(t.baseUrl);
    await revoked.say('/start');
    const person = await personOf(t.app, 'web', revoked.session);
    const { revokeWebSessions } = await import('../../src/persistence/web-session.repository.js');
    expect(await revokeWebSessions(t.app.db, person.id)).toBe(1);
    expect((await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: revoked.cookie! } })).status).toBe(401);
    expect((await revoked.post({ text: 'hi' })).status).toBe(401);

    const leaving = createWebClient(t.baseUrl);
    await leaving.say('/start');
    const out = await fetch(`${t.baseUrl}/api/web/session`, { method: 'DELETE', headers: { cookie: leaving.cookie! } });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/Max-Age=0/);
    expect((await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: leaving.cookie! } })).status).toBe(401);
  });

  it('ends the session with the person on /delete_me, handing the page its last answer', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    const publicId = web.session;
    await web.say('/delete_me');
    const res = await web.post({ choice: 'set:delete:yes' });
    expect(res.status).toBe(200);
    const data = (await res.json()) as { ended?: boolean; messages: { text: string }[] };
    expect(data.ended).toBe(true);
    expect(texts(data.messages as never)).toMatch(/xóa/i);
    expect((await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: web.cookie! } })).status).toBe(401);
    expect(await t.app.db.webSession.count()).toBe(0);
    expect(await t.app.db.webMessage.count({ where: { session: publicId } })).toBe(0);
    expect(await t.app.db.person.count()).toBe(0);
  });

  it('refuses cross-site posts: the review text/plain reproduction, a foreign Origin, Sec-Fetch-Site cross-site', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    const before = await t.app.db.webMessage.count();
    const body = JSON.stringify({ id: 'abcdefgh12', text: '/cases' });
    // A cross-site <form enctype="text/plain"> or no-cors fetch: text/plain, the browser's Origin.
    const plain = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'text/plain', cookie: web.cookie! }, body });
    expect(plain.status).toBe(415);
    const foreign = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example', cookie: web.cookie! }, body });
    expect(foreign.status).toBe(403);
    const site = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', cookie: web.cookie! }, body });
    expect(site.status).toBe(403);
    const nullOrigin = await fetch(`${t.baseUrl}/api/web/photos?id=abcdefgh12`, { method: 'POST', headers: { 'content-type': 'image/png', origin: 'null', cookie: web.cookie! }, body: 'x' });
    expect(nullOrigin.status).toBe(403);
    const session = await fetch(`${t.baseUrl}/api/web/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' });
    expect(session.status).toBe(403);
    expect(await t.app.db.webMessage.count()).toBe(before);
    // The page's own origin is accepted.
    const own = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl, 'sec-fetch-site': 'same-origin', cookie: web.cookie! }, body });
    expect(own.status).toBe(200);
  });
});

describe('roles never rest on a web session alone (H3)', () => {
  it('a web-only leader or officer acts as a resident until a messenger account is linked', async () => {
    const t = await start();
    const group = await t.app.db.group.findFirstOrThrow({ where: { joinPolicy: 'open' } });
    const resident = createWebClient(t.baseUrl);
    await joinOnWeb(resident, { code: group.inviteCode });
    const residentCases = texts(await resident.say('/cases'));

    const web = createWebClient(t.baseUrl);
    await joinOnWeb(web, { code: group.inviteCode });
    const person = await personOf(t.app, 'web', web.session);
    const area = await t.app.db.area.findUniqueOrThrow({ where: { id: group.areaId } });
    await makeLeader(t.app, person.id, group.code, 'leader', { messenger: false });
    await makeOfficer(t.app, person.id, area.code, { messenger: false });
    await t.app.db.roleGrant.create({ data: { personId: person.id, role: 'admin' } });

    const actor = await t.app.services.actors.actor(person.id);
    expect(actor).toEqual({ personId: person.id, memberships: [{ groupId: group.id, role: 'member' }], officerAreaIds: [], admin: false });
    expect(texts(await web.say('/cases'))).toBe(residentCases);

    // Linked to a Telegram account (the /link flow: a code from the web chat, redeemed on Telegram).
    const replies = await web.say('/settings');
    const code = /(?:Mã kết nối của bạn|Your link code)[^:]*: ([A-Z0-9]+)/.exec(texts(await web.pick(replies, /Kết nối với ứng dụng khác|Connect another app/)))?.[1];
    expect(code).toBeDefined();
    const telegram = await t.app.db.person.create({ data: { locale: 'vi', accounts: { create: { channel: 'telegram', externalId: '424242', chatId: '424242' } } }, include: { accounts: true } });
    await t.app.services.links.redeem(telegram.accounts[0]!.id, code!.replace(/\s/g, ''));
    const linked = await personOf(t.app, 'web', web.session);
    const powers = await t.app.services.actors.actor(linked.id);
    expect(powers.memberships).toEqual([{ groupId: group.id, role: 'leader' }]);
    expect(powers.officerAreaIds).toEqual([area.id]);
    expect(powers.admin).toBe(true);
    expect(texts(await web.say('/cases'))).not.toBe(residentCases);
  });
});
