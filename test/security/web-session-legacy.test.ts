/**
 * Browsers from before server-issued sessions kept a self-chosen id in localStorage
 * ("chat-session"). The new page offers it once: the server carries that conversation over to a
 * cookie session under a new public id, and never accepts the old string again. A legacy
 * account whose person holds roles does not hand them to the browser: roles need a messenger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { sessionCookieOf } from '../helpers/web-client.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

async function start() {
  const t = await startTestApp();
  running.push(t);
  return t;
}

const LEGACY = '4f9c2a7e1b3d5f6a8c0e2b4d6f8a0c1e'; // what the old page made: 16 random bytes in hex

/** A web person as the old service left them: account keyed by the page's own id, stored replies. */
async function legacyPerson(t: TestApp, legacyId: string, texts: string[]) {
  const person = await t.app.db.person.create({
    data: { locale: 'en', onboardedAt: new Date(), accounts: { create: { channel: 'web', externalId: legacyId, chatId: legacyId } } },
    include: { accounts: true },
  });
  for (const text of texts) await t.app.db.webMessage.create({ data: { session: legacyId, payload: JSON.stringify({ text }) } });
  return { person, account: person.accounts[0]! };
}

async function session(t: TestApp, body: Record<string, unknown>, cookie?: string) {
  const res = await fetch(`${t.baseUrl}/api/web/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return { data: (await res.json()) as { session: string; locale: string; legacy?: string }, cookie: sessionCookieOf(res) };
}

async function messages(t: TestApp, cookie: string) {
  const res = await fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: { text: string }[] }).messages.map((m) => m.text);
}

describe('legacy localStorage sessions are migrated once', () => {
  it('continues the same conversation under a new public id, then refuses the old string for good', async () => {
    const t = await start();
    const { person, account } = await legacyPerson(t, LEGACY, ['Welcome back', 'What would you like to do?']);

    const first = await session(t, { legacy: LEGACY });
    expect(first.data.legacy).toBe('migrated');
    expect(first.data.locale).toBe('en');
    expect(first.data.session).toMatch(/^w[a-z2-7]{16}$/);
    expect(await messages(t, first.cookie!)).toEqual(['Welcome back', 'What would you like to do?']);

    // Same account and person, re-keyed; the stored replies followed; the old id is gone.
    const moved = await t.app.db.channelAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(moved.externalId).toBe(first.data.session);
    expect(moved.chatId).toBe(first.data.session);
    expect(moved.personId).toBe(person.id);
    expect(await t.app.db.channelAccount.count({ where: { externalId: LEGACY } })).toBe(0);
    expect(await t.app.db.webMessage.count({ where: { session: LEGACY } })).toBe(0);
    expect((await t.app.db.webSession.findFirstOrThrow({ where: { accountId: account.id } })).legacy).toBe(true);

    // The conversation carries on with the cookie.
    const post = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: first.cookie! }, body: JSON.stringify({ id: 'abcdefgh12', text: '/help' }) });
    expect(post.status).toBe(200);
    expect((await messages(t, first.cookie!)).length).toBeGreaterThan(2);

    // A second browser (or an attacker who read the old localStorage) gets nothing of it.
    const second = await session(t, { legacy: LEGACY });
    expect(second.data.legacy).toBe('refused');
    expect(second.data.session).not.toBe(first.data.session);
    expect(await messages(t, second.cookie!)).toEqual([]);
    expect((await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: second.data.session } } })).personId).not.toBe(person.id);

    // With a live cookie the legacy value is ignored; the new public id is no legacy id either.
    expect((await session(t, { legacy: LEGACY }, first.cookie!)).data).toMatchObject({ session: first.data.session, legacy: 'ignored' });
    expect((await session(t, { legacy: first.data.session })).data.legacy).toBe('refused');
    // Unknown and malformed strings are refused (a new, empty session instead).
    expect((await session(t, { legacy: 'never-existed-0000000000' })).data.legacy).toBe('refused');
    expect((await session(t, { legacy: 'short' })).data.legacy).toBe('refused');
    expect((await session(t, { legacy: { $ne: null } })).data.legacy).toBe('refused');
    // A server-shaped id is never a legacy one, even for an account that has no session.
    await t.app.db.channelAccount.create({ data: { channel: 'web', externalId: 'wabcdefghijklmnop', chatId: 'wabcdefghijklmnop', person: { create: {} } } });
    expect((await session(t, { legacy: 'wabcdefghijklmnop' })).data.legacy).toBe('refused');
  });

  it('a role-bearing legacy account keeps its conversation but not its roles', async () => {
    const t = await start();
    const group = await t.app.db.group.findFirstOrThrow();
    const area = await t.app.db.area.findUniqueOrThrow({ where: { id: group.areaId } });
    const { person, account } = await legacyPerson(t, 'ward-officer-kim-ma', ['Open reports (100)']);
    // An officer who had also linked Telegram: the roles act there, and must not move to a string.
    await t.app.db.channelAccount.create({ data: { personId: person.id, channel: 'telegram', externalId: '5550001', chatId: '5550001' } });
    await t.app.db.roleGrant.create({ data: { personId: person.id, role: 'officer', areaId: area.id } });
    await t.app.db.membership.create({ data: { groupId: group.id, personId: person.id, role: 'leader', state: 'active' } });

    const migrated = await session(t, { legacy: 'ward-officer-kim-ma' });
    expect(migrated.data.legacy).toBe('migrated');
    const texts = await messages(t, migrated.cookie!);
    expect(texts[0]).toBe('Open reports (100)');
    expect(texts.at(-1)).toMatch(/link this chat to your Telegram or Zalo account/);

    const moved = await t.app.db.channelAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(moved.personId).not.toBe(person.id);
    const actor = await t.app.services.actors.actor(moved.personId);
    expect(actor).toEqual({ personId: moved.personId, memberships: [{ groupId: group.id, role: 'member' }], officerAreaIds: [], admin: false });
    // The officer keeps the roles on Telegram.
    const officer = await t.app.services.actors.actor(person.id);
    expect(officer.officerAreaIds).toEqual([area.id]);
    expect(officer.memberships).toEqual([{ groupId: group.id, role: 'leader' }]);
  });
});
