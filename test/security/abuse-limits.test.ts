/**
 * Issue 8 item 6 (per person, in the core) and L10: messages per account (in memory), reports
 * and "danger now" reports per person (counted in the database), link-code guesses per account
 * and over everyone. A limit answers politely in the person's language, never hides the
 * emergency numbers, and loses nothing that was accepted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { createMessageLimit, createSlidingLimiter, LINK_GUESSES_GLOBAL, REPORTS, URGENT_REPORTS } from '../../src/core/abuse/limits.js';
import { DomainError } from '../../src/core/errors.js';
import type { CaseDraft } from '../../src/core/services/case.service.js';
import { startFakeTelegram } from '../fakes/fake-telegram-server.js';
import { tgTo, tgText, updateHandled } from '../helpers/telegram-user.js';
import { repliesSent } from '../helpers/replies-sent.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import type { Cleanups } from '../helpers/world.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startTestApp({ env });
  cleanups.push(() => t.dispose());
  return t;
}

async function ownGroup(a: App) {
  const ward = await a.db.area.create({ data: { code: 'SEC-AB', name: 'Phường Thử', level: 'ward' } });
  return a.db.group.create({ data: { code: 'SEC-AB-01', name: 'Tổ Thử', areaId: ward.id, inviteCode: 'ABQT234' } });
}

async function member(a: App, groupId: string, externalId: string): Promise<string> {
  const personId = await a.services.roles.personFor('telegram', externalId);
  await a.db.membership.create({ data: { groupId, personId, state: 'active' } });
  return personId;
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('the sliding-window limiter', () => {
  it('lets max events through per window, warns once, drops the rest, and frees the key after one window', () => {
    let now = 1_000_000;
    const limiter = createSlidingLimiter({ max: 3, windowMs: 10_000 }, () => now);
    expect([1, 2, 3].map(() => limiter.hit('a'))).toEqual(['ok', 'ok', 'ok']);
    expect(limiter.hit('a')).toBe('warn');
    expect(limiter.hit('a')).toBe('drop');
    expect(limiter.hit('b')).toBe('ok'); // others are not affected
    now += 9_999;
    expect(limiter.hit('a')).toBe('drop');
    now += 1;
    expect(limiter.hit('a')).toBe('ok'); // the first event left the window
    expect(limiter.hit('a')).toBe('ok');
    expect(limiter.hit('a')).toBe('ok');
    expect(limiter.hit('a')).toBe('warn'); // a new flood is warned about again
  });

  it('says nothing in a group chat, and forgets idle keys', () => {
    let now = 0;
    const limit = createMessageLimit({ limit: { max: 1, windowMs: 1000 }, now: () => now });
    const group = { channel: 'telegram' as const, accountId: '1', chatType: 'group' as const };
    expect(limit.check(group)).toBe('ok');
    expect(limit.check(group)).toBe('drop');
    const limiter = createSlidingLimiter({ max: 1, windowMs: 1000 }, () => now);
    for (let i = 0; i < 2000; i++) limiter.hit(`k${i}`);
    now += 5000;
    for (let i = 0; i < 1000; i++) limiter.hit('x');
    expect(limiter.size).toBeLessThan(10);
  });
});

describe('messages per account', () => {
  it('a Telegram flood gets max answers and ONE "slow down" in the sender\'s language; another person is answered meanwhile', async () => {
    const tg = await startFakeTelegram({ token: '700101:abuse-token' });
    cleanups.push(() => tg.close());
    const t = await app({ TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, MESSAGE_LIMIT: '5/60s' }); // a long window: the result cannot depend on how fast the machine is
    const flooder = 730001;
    const other = 730002;
    const updates = [];
    // An unknown command: answered at once by anyone, before any onboarding.
    for (let i = 0; i < 25; i++) updates.push(await tg.pushUpdate(tg.userCommand({ userId: flooder, firstName: 'Flood', languageCode: 'en', text: '/khongco' })));
    const calm = await tg.pushUpdate(tg.userCommand({ userId: other, firstName: 'Calm', text: '/khongco' }));
    await updateHandled(tg, calm.update_id, 15_000);
    for (const u of updates) await updateHandled(tg, u.update_id, 15_000);
    await repliesSent('telegram', 15_000);

    const answer = t.app.translator.t('vi', 'common:unknownCommand', { command: 'khongco' });
    const toFlooder = tg.calls.filter(tgTo(flooder)).map(tgText);
    const slow = toFlooder.filter((text) => /Bạn đang gửi tin nhắn quá nhanh|You are sending messages very fast/.test(text));
    expect(toFlooder.filter((text) => text === answer)).toHaveLength(5);
    expect(slow).toHaveLength(1);
    // In Vietnamese (the default language of a newcomer), with the emergency numbers.
    expect(slow[0]).toBe(t.app.translator.t('vi', 'common:slowDown', { seconds: 60 }));
    expect(slow[0]).toMatch(/Vui lòng đợi 60 giây.*113.*114.*115/s);
    expect(tg.calls.filter(tgTo(other)).map(tgText)).toContain(answer);

    // (Being served again after the window is shown on the limiter itself, above.)
  }, 120_000);

  it('MESSAGE_LIMIT=off turns the limit off', async () => {
    const t = await app({ MESSAGE_LIMIT: 'off' });
    expect(t.app.config.messageLimit).toBe(false);
  });
});

describe('reports per person (counted in the database)', () => {
  it(`refuses the report after ${REPORTS.max} in an hour, keeps counting per person, and says all were received`, async () => {
    const t = await app();
    const a = t.app;
    const group = await ownGroup(a);
    const reporter = await member(a, group.id, '740001');
    const neighbour = await member(a, group.id, '740002');
    const draft = (i: number): CaseDraft => ({ groupId: group.id, category: 'other', urgent: false, description: `Đèn đường hỏng số ${i}`, anonymous: i % 2 === 0 });
    // Some of them were filed by another instance: rows in the database count the same.
    for (let i = 0; i < 4; i++) await a.services.cases.create(reporter, draft(i));
    const other = await startTestApp({ dir: t.dir });
    cleanups.push(() => other.stop());
    for (let i = 4; i < REPORTS.max; i++) await other.app.services.cases.create(reporter, draft(i));
    const refused = await refusal(a.services.cases.create(reporter, draft(99)));
    expect(refused.code).toBe('report:reportLimit');
    expect(await a.db.case.count({ where: { reporterId: reporter } })).toBe(REPORTS.max);
    const vi_ = a.translator.t('vi', refused.code, refused.params);
    expect(vi_).toMatch(/Bạn đã gửi 10 phản ánh trong 60 phút qua.*đã được tiếp nhận.*113.*114.*115/s);
    expect(a.translator.t('en', refused.code, refused.params)).toMatch(/You have sent 10 reports in the last 60 minutes.*113/s);
    // Another person is not affected.
    await expect(a.services.cases.create(neighbour, draft(1))).resolves.toBeDefined();
  }, 120_000);

  it(`refuses a "danger now" report after ${URGENT_REPORTS.max} in an hour, with 113/114/115 and the references already received`, async () => {
    const t = await app();
    const a = t.app;
    const group = await ownGroup(a);
    const reporter = await member(a, group.id, '750001');
    const urgent = (i: number): CaseDraft => ({ groupId: group.id, category: 'security', urgent: true, description: `Có người lạ phá khóa ${i}`, anonymous: false });
    const refs: string[] = [];
    for (let i = 0; i < URGENT_REPORTS.max; i++) refs.push((await a.services.cases.create(reporter, urgent(i))).case.ref);
    const refused = await refusal(a.services.cases.create(reporter, urgent(9)));
    expect(refused.code).toBe('report:urgentLimit');
    const text = a.translator.t('vi', refused.code, refused.params);
    expect(text).toMatch(/113 — Công an/);
    expect(text).toMatch(/114 — Cứu hỏa, cứu nạn/);
    expect(text).toMatch(/115 — Cấp cứu/);
    for (const ref of refs) expect(text).toContain(ref);
    expect(text).toMatch(/đã được tiếp nhận/);
    expect(a.translator.t('en', refused.code, refused.params)).toMatch(/113 — Police[\s\S]*were received/);
    expect(await a.db.case.count({ where: { reporterId: reporter } })).toBe(URGENT_REPORTS.max);
    // An ordinary report still goes through (the urgent limit is about "danger now").
    await expect(a.services.cases.create(reporter, { ...urgent(10), urgent: false })).resolves.toBeDefined();
    // An hour later the person may raise the alarm again.
    await a.db.case.updateMany({ where: { reporterId: reporter }, data: { createdAt: new Date(Date.now() - URGENT_REPORTS.windowMs - 1000) } });
    await expect(a.services.cases.create(reporter, urgent(11))).resolves.toBeDefined();
  }, 120_000);
});

describe('link-code guesses (L10)', () => {
  it('5 wrong codes per account, and a limit over all accounts together that fresh sessions cannot get around', async () => {
    const t = await app();
    const a = t.app;
    const account = async (id: string) => {
      const personId = await a.services.roles.personFor('telegram', id);
      return a.db.channelAccount.findFirstOrThrow({ where: { personId } });
    };
    const guesser = await account('760001');
    for (let i = 0; i < 5; i++) expect((await refusal(a.services.links.redeem(guesser.id, 'WRONG234'))).code).toBe('settings:linkInvalid');
    expect((await refusal(a.services.links.redeem(guesser.id, 'WRONG234'))).code).toBe('settings:linkTooMany');

    // Many fresh accounts guessing (as fresh web sessions would), each under its own limit.
    let made = 5;
    while (made < LINK_GUESSES_GLOBAL.max) {
      const fresh = await account(String(761000 + made));
      for (let i = 0; i < 4 && made < LINK_GUESSES_GLOBAL.max; i++, made++) {
        expect((await refusal(a.services.links.redeem(fresh.id, 'WRONG234'))).code).toBe('settings:linkInvalid');
      }
    }
    const owner = await a.services.roles.personFor('telegram', '769999');
    const { code } = await a.services.links.create(owner);
    const newcomer = await account('769998');
    const busy = await refusal(a.services.links.redeem(newcomer.id, code));
    expect(busy.code).toBe('settings:linkBusy');
    expect(a.translator.t('vi', busy.code)).toMatch(/tạm dừng/);
    // The code itself was not used up: once the wave of wrong guesses is older than the window, it works.
    await a.db.auditLog.updateMany({ where: { action: 'link.failed' }, data: { createdAt: new Date(Date.now() - LINK_GUESSES_GLOBAL.windowMs - 1000) } });
    await expect(a.services.links.redeem(newcomer.id, code)).resolves.toEqual({ personId: owner });
  }, 120_000);
});
