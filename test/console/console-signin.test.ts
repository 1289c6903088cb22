/**
 * Signing in to the web console: /console in the bot gives a one-time link (10 minutes, once);
 * opening it sets an HttpOnly, SameSite=Strict session cookie; devices can be listed and signed
 * out; residents get no link; expired links and sessions say how to get a new one.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram, onboardZalo } from '../helpers/onboarding.js';
import { makeOfficer } from '../helpers/roles.js';
import { personOf } from '../helpers/roles.js';
import { startTestApp } from '../helpers/test-app.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { consoleBrowser, linkIn, onServer, openLink, signInWith } from './console-helpers.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_in';
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function leaderWorld() {
  const { tg, t } = await startWorld(TOKEN, cleanups);
  const leader = await onboardTelegram(tg, 6_100_001, { firstName: 'Tổ trưởng' });
  const person = await personOf(t.app, 'telegram', '6100001');
  await t.app.db.membership.updateMany({ where: { personId: person.id }, data: { role: 'leader' } });
  return { tg, t, leader, person };
}

describe('console sign-in', () => {
  it('gives a leader a one-time link that works once and sets a strict, HttpOnly cookie', { timeout: 120_000 }, async () => {
    const { t, leader, person } = await leaderWorld();
    const turn = await leader.command('/console');
    expect(turn.text).toMatch(/Đường dẫn đăng nhập bàn làm việc/);
    const link = linkIn(turn.text);
    expect(link).toMatch(new RegExp(`^http://localhost:${t.app.port}/console/login\\?t=`));
    // Only the hash is stored.
    const token = new URL(link).searchParams.get('t')!;
    const rows = await t.app.db.consoleLoginToken.findMany({ where: { personId: person.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime()).toBe(10 * 60_000);

    // Fetching the link (as a messenger's link preview would) spends nothing.
    const preview = await fetch(onServer(t, link), { redirect: 'manual' });
    expect(preview.status).toBe(200);
    expect(preview.headers.get('set-cookie')).toBeNull();
    expect(await preview.text()).toContain('Đăng nhập bàn làm việc');
    expect((await t.app.db.consoleLoginToken.findFirstOrThrow({ where: { personId: person.id } })).usedAt).toBeNull();

    const res = await signInWith(t, link, 'Phone browser 1.0');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/cases');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^console_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\/console/);
    expect(setCookie).toMatch(/Max-Age=43200/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = /console_session=([^;]+)/.exec(setCookie)![1]!;
    const session = await t.app.db.consoleSession.findFirstOrThrow({ where: { personId: person.id } });
    expect(session.tokenHash).toBe(createHash('sha256').update(cookie).digest('hex'));
    expect(session.userAgent).toBe('Phone browser 1.0');
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(12 * 3600_000);

    const desk = consoleBrowser(t, cookie);
    const queue = await desk.get('/console/cases');
    expect(queue.status).toBe(200);
    expect(queue.html).toContain('Phản ánh cần xử lý');
    expect((await desk.get('/console')).status).toBe(303);

    // The same link a second time: refused (opened or posted), with how to get a new one.
    const again = await fetch(onServer(t, link), { redirect: 'manual' });
    expect(again.status).toBe(410);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('gõ /console');
    const reposted = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `t=${token}` });
    expect(reposted.status).toBe(410);
    expect(reposted.headers.get('set-cookie')).toBeNull();
    // A sign-in form posted from another site is refused (login CSRF), and spends nothing.
    const fresh = new URL(linkIn((await leader.command('/console')).text)).searchParams.get('t')!;
    const crossSite = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `t=${fresh}` });
    expect(crossSite.status).toBe(410);
    expect(crossSite.headers.get('set-cookie')).toBeNull();

    const audit = await t.app.db.auditLog.findMany({ where: { actorId: person.id }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['console.link.issued', 'console.signin']));
  });

  it('refuses a link after 10 minutes and a session after it expired, saying how to get a new link', async () => {
    const { t, leader, person } = await leaderWorld();
    const link = linkIn((await leader.command('/console')).text);
    await t.app.db.consoleLoginToken.updateMany({ where: { personId: person.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await fetch(onServer(t, link), { redirect: 'manual' });
    expect(expired.status).toBe(410);
    const page = await expired.text();
    expect(page).toContain('Đường dẫn đăng nhập đã hết hạn hoặc đã được dùng');
    expect(page).toContain('gõ /console');

    const desk = await openLink(t, linkIn((await leader.command('/console')).text));
    expect((await desk.get('/console/cases')).status).toBe(200);
    await t.app.db.consoleSession.updateMany({ where: { personId: person.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const after = await desk.get('/console/cases');
    expect(after.status).toBe(401);
    expect(after.html).toContain('gõ /console');
    // A made-up cookie and no cookie at all: the same page.
    expect((await consoleBrowser(t, 'x'.repeat(43)).get('/console/cases')).status).toBe(401);
    expect((await fetch(`${t.baseUrl}/console/cases`)).status).toBe(401);
    expect((await fetch(`${t.baseUrl}/console/login?t=nonsense`)).status).toBe(410);
  });

  it('gives a Zalo officer a link too (any messenger), in English for an English speaker', async () => {
    const { zalo, t } = await startWorld(TOKEN, cleanups);
    const officer = await onboardZalo(zalo, 'zalo-officer-console', 'Cán bộ', { locale: 'en' });
    const person = await personOf(t.app, 'zalo', 'zalo-officer-console');
    const group = await t.app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' }, include: { area: true } });
    await makeOfficer(t.app, person.id, group.area.code);
    const turn = await officer.type('/console', /console\/login/);
    expect(turn.text).toMatch(/Your sign-in link to the desk \(works once, for 10 minutes\)/);
    const desk = await openLink(t, linkIn(turn.text));
    const page = await desk.get('/console/cases');
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain('Cases to handle');
  });

  it('gives a resident no link, in their language', async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const resident = await onboardTelegram(tg, 6_100_009, { firstName: 'Cư dân' });
    const turn = await resident.command('/console');
    expect(turn.text).toMatch(/Bàn làm việc dành cho tổ trưởng, tổ phó, cán bộ công an và quản trị viên/);
    expect(turn.text).not.toMatch(/console\/login/);
    expect(await t.app.db.consoleLoginToken.count()).toBe(0);
  });

  it('lists signed-in devices and signs one out; forms need the session\'s CSRF token', async () => {
    const { t, leader, person } = await leaderWorld();
    const phone = await openLink(t, linkIn((await leader.command('/console')).text), 'Phone browser');
    const desk = await openLink(t, linkIn((await leader.command('/console')).text), 'Desk browser');
    const page = await desk.get('/console/devices');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Phone browser');
    expect(page.html).toContain('Desk browser');
    const phoneSession = await t.app.db.consoleSession.findFirstOrThrow({ where: { personId: person.id, userAgent: 'Phone browser' } });

    // No token, a wrong token, another session's token: refused, nothing changes.
    expect((await desk.post(`/console/devices/${phoneSession.id}/signout`, {})).status).toBe(403);
    expect((await desk.post(`/console/devices/${phoneSession.id}/signout`, { csrf: 'wrong' })).status).toBe(403);
    const phoneCsrf = phone.csrfOf((await phone.get('/console/devices')).html);
    expect((await desk.post(`/console/devices/${phoneSession.id}/signout`, { csrf: phoneCsrf })).status).toBe(403);
    expect((await phone.get('/console/cases')).status).toBe(200);

    const out = await desk.post(`/console/devices/${phoneSession.id}/signout`, { csrf: desk.csrfOf(page.html) });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/console/devices?done=signout');
    expect((await phone.get('/console/cases')).status).toBe(401);
    expect((await desk.get('/console/devices')).html).not.toContain('Phone browser');

    // Signing out this device.
    const signout = await desk.post('/console/signout', { csrf: desk.csrfOf((await desk.get('/console/cases')).html) });
    expect(signout.status).toBe(200);
    expect(signout.html).toContain('Bạn đã đăng xuất');
    expect((await desk.get('/console/cases')).status).toBe(401);
    const actions = (await t.app.db.auditLog.findMany({ where: { actorId: person.id } })).map((a) => a.action);
    expect(actions.filter((a) => a === 'console.signout')).toHaveLength(2);
  });

  it('marks the cookie Secure and links with PUBLIC_URL when it is https', async () => {
    const t = await startTestApp({ env: { PUBLIC_URL: 'https://desk.example.vn' } });
    cleanups.push(() => t.dispose());
    const person = await t.app.db.person.create({ data: { accounts: { create: { channel: 'telegram', externalId: '6100077', chatId: '6100077' } } } });
    const group = await t.app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' } });
    await t.app.db.membership.create({ data: { personId: person.id, groupId: group.id, role: 'leader', state: 'active' } });
    const link = await t.app.consoleWeb.issueLink(person.id);
    expect(link).toMatch(/^https:\/\/desk\.example\.vn\/console\/login\?t=[A-Za-z0-9_-]{43}$/);
    const res = await signInWith(t, link);
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});
