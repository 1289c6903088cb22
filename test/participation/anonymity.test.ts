/**
 * Anonymity of poll answers and forum opinions, end to end: residents on Telegram, Zalo and the
 * web chat, each with distinctive names, username, phone and ids, answer a poll (a choice and a
 * free answer) and send anonymous opinions to a forum. The leader (Telegram), the ward officer
 * (Zalo) and a deputy (web chat) read the results and the opinions through the bot. Then every
 * message any of them received (whole request bodies: texts, buttons and their data; web inbox
 * rows) is scanned for every identifier of every resident: none may appear.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { onboardTelegram, onboardWebInboxUser, onboardZalo } from '../helpers/onboarding.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { findChoice, texts } from '../helpers/web-client.js';
import type { Clock } from '../../src/core/ports/clock.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_participation_anon';
/** Demo codes (prisma/seed/demo-areas.json): the group of invite code KMA234 and its ward. */
const GROUP = 'HN-GV-01';
const WARD = 'HN-GV';
const WAIT = 20_000;
const DAY = 86_400_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('anonymity of poll answers and forum opinions', () => {
  it('no leader, officer or deputy receives any identifier of anyone who answered', async () => {
    let offset = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offset) };
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups, { clock, escalationJob: false, participationJobMs: 100, delivery: { idlePollMs: 20 } });
    const db = t.app.db;
    const group = await db.group.findUniqueOrThrow({ where: { code: GROUP } });

    // Handlers: the leader on Telegram, the ward officer on Zalo, a deputy on the web chat.
    const leader = await onboardTelegram(tg, 5555001, { firstName: 'Leader' }, { wait: WAIT });
    const leaderId = (await personOf(t.app, 'telegram', '5555001')).id;
    await makeLeader(t.app, leaderId, GROUP);
    const officer = await onboardZalo(zalo, 'zalo-officer-part', 'Officer', { wait: WAIT });
    const officerId = (await personOf(t.app, 'zalo', 'zalo-officer-part')).id;
    await makeOfficer(t.app, officerId, WARD);
    const deputy = await onboardWebInboxUser(t, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, GROUP, 'deputy');

    // Residents with identifiers nobody else could produce by chance.
    const tgRes = await onboardTelegram(tg, 731_946_286, { firstName: 'Zephyrine', lastName: 'Quimbertova', username: 'zephy_secret_qb' }, { wait: WAIT });
    const zaloRes = await onboardZalo(zalo, 'zr8f3k2m9x7q4v', 'Xandrella Vortigan', { wait: WAIT });
    // The worker offers a notification's choices once the platform took it; a typed number answers
    // it from then on (a person reads before typing; the test waits for the offer instead).
    const offeredToZalo = (label: string) =>
      vi.waitFor(
        async () => {
          const account = await t.app.db.channelAccount.findFirstOrThrow({ where: { channel: 'zalo', externalId: 'zr8f3k2m9x7q4v' }, include: { conversation: true } });
          expect(account.conversation?.choices ?? '').toContain(label);
        },
        { timeout: 15_000, interval: 10 },
      );
    const webRes = await onboardWebInboxUser(t, { wait: WAIT });
    const people = {
      telegram: await personOf(t.app, 'telegram', '731946286'),
      zalo: await personOf(t.app, 'zalo', 'zr8f3k2m9x7q4v'),
      web: await personOf(t.app, 'web', webRes.session),
    };
    await db.person.update({ where: { id: people.telegram.id }, data: { phone: '+84912738461' } });
    await db.person.update({ where: { id: people.zalo.id }, data: { phone: '+84977061121' } });
    await db.person.update({ where: { id: people.web.id }, data: { phone: '+84966554431', displayName: 'Ysolde Krumholtz' } });
    // Even members who let the leaders see their names as members stay anonymous in answers.
    await db.membership.updateMany({ where: { personId: { in: Object.values(people).map((p) => p.id) } }, data: { shareContact: true } });
    const identifiers = new Map<string, string[]>([
      ['telegram resident', ['Zephyrine', 'Quimbertova', 'zephy_secret_qb', '84912738461', '912738461', '731946286', people.telegram.id]],
      ['zalo resident', ['Xandrella', 'Vortigan', 'zr8f3k2m9x7q4v', '84977061121', '977061121', people.zalo.id]],
      ['web resident', ['Ysolde', 'Krumholtz', webRes.session, '84966554431', '966554431', people.web.id]],
    ]);
    for (const [who, person] of [['telegram resident', people.telegram], ['zalo resident', people.zalo], ['web resident', people.web]] as const) {
      const accounts = await db.channelAccount.findMany({ where: { personId: person.id } });
      identifiers.get(who)!.push(...accounts.flatMap((a) => [a.id, a.externalId, a.chatId]));
    }

    // A one-choice poll, answered on every channel (on Zalo a typed number answers the newest list received).
    const choice = await t.app.services.polls.create(leaderId, { groupIds: [group.id], kind: 'single', question: 'Giờ tuần tra nào hợp lý?', options: ['20 giờ', '22 giờ'], closesAt: new Date(Date.now() + DAY), anonymous: true });
    const tgChoice = await tgRes.waitFor(/Giờ tuần tra nào hợp lý/);
    await tgRes.pressOn(tgChoice, '22 giờ');
    await zaloRes.waitFor(/Giờ tuần tra nào hợp lý/);
    await offeredToZalo('20 giờ');
    await zaloRes.choose('20 giờ');
    const webChoice = await webRes.waitFor(/Giờ tuần tra nào hợp lý/);
    await webRes.client.choose(findChoice([webChoice], '22 giờ').id);

    // A free-answer poll and a forum.
    const free = await t.app.services.polls.create(leaderId, { groupIds: [group.id], kind: 'free', question: 'Góp ý gì cho tổ?', options: [], closesAt: new Date(Date.now() + DAY), anonymous: true });
    const forum = await t.app.services.forums.open(officerId, { groupIds: [group.id], topic: 'Trật tự khu phố', closesAt: new Date(Date.now() + 7 * DAY) });
    const tgFree = await tgRes.waitFor(/Góp ý gì cho tổ/);
    await tgRes.pressOn(tgFree, 'Trả lời');
    await tgRes.type('Zephyrine đề nghị thêm đèn');
    const tgForum = await tgRes.waitFor(/Trật tự khu phố/);
    await tgRes.pressOn(tgForum, 'Gửi ý kiến');
    await tgRes.press('Ẩn danh');
    await tgRes.type('Tiếng ồn quán nhậu sau nửa đêm');

    await zaloRes.waitFor(/Trật tự khu phố/);
    await offeredToZalo('Gửi ý kiến');
    await zaloRes.choose('Gửi ý kiến');
    await zaloRes.choose('Ẩn danh');
    await zaloRes.type('Xe tải đỗ chắn ngõ ban đêm');

    const webForum = await webRes.waitFor(/Trật tự khu phố/);
    await webRes.client.choose(findChoice([webForum], 'Gửi ý kiến').id);
    await webRes.say('1'); // Ẩn danh
    await webRes.say('Tiếng ồn quán nhậu làm trẻ mất ngủ');
    expect(await db.pollAnswer.count()).toBe(4);
    expect(await db.forumOpinion.count()).toBe(3);

    // The handlers read: the leader the poll results so far, the officer and the deputy the forum.
    await leader.command('/polls');
    expect((await leader.press(/Giờ tuần tra/)).text).toMatch(/Số người trả lời: 3/);
    await officer.type('/forums');
    expect((await officer.choose(/Xem ý kiến/)).text).toMatch(/Tiếng ồn quán nhậu/);
    const list = await deputy.say('/forums');
    expect(texts(await deputy.client.choose(findChoice(list, /Xem ý kiến/).id))).toMatch(/"tiếng ồn": 2 ý kiến/);

    // The polls close; results reach everyone who answered and the leader.
    offset += DAY + 60_000;
    await leader.waitFor(/KẾT QUẢ LẤY Ý KIẾN[\s\S]*Góp ý gì cho tổ[\s\S]*Zephyrine đề nghị thêm đèn/);
    await leader.waitFor(/KẾT QUẢ LẤY Ý KIẾN[\s\S]*Giờ tuần tra/);
    void choice;
    void free;
    void forum;
    await vi.waitFor(async () => expect(await db.delivery.count({ where: { status: { in: ['queued', 'sending'] } } })).toBe(0), { timeout: 60_000, interval: 50 });

    // Everything the handlers received.
    const received: Record<string, string[]> = {
      'telegram leader': tg.calls.filter((c) => String(c.body.chat_id) === '5555001').map((c) => `${c.method} ${JSON.stringify(c.body)}`),
      'zalo officer': zalo.sent.filter((c) => c.body.chat_id === 'zalo-officer-part').map((c) => `${c.method} ${JSON.stringify(c.body)}`),
      'web deputy': (await db.webMessage.findMany({ where: { session: deputy.session }, orderBy: { seq: 'asc' } })).map((m) => m.payload),
    };
    const leaks: string[] = [];
    for (const [handler, messages] of Object.entries(received)) {
      expect(messages.length, handler).toBeGreaterThan(5);
      for (const message of messages) {
        for (const [resident, ids] of identifiers) {
          // The free answer's own words ("Zephyrine đề nghị…") are what the resident chose to write.
          const scanned = message.replaceAll('Zephyrine đề nghị thêm đèn', '');
          for (const id of ids) if (scanned.toLowerCase().includes(id.toLowerCase())) leaks.push(`${handler} got ${resident}'s "${id}" in: ${message.slice(0, 300)}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  }, 240_000);
});
