/**
 * M1 / issue 8 item 8: "Need help" pressed again on the same alert copy (or on another copy of
 * the same person) points to the case already open, with the same reference, and never opens
 * another urgent case; double taps on Received / Safe change nothing. The review's reproduction:
 * a leader sends an alert, a resident presses `a:<alertId>:h` three times -> three urgent cases.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import type { AlertDraft } from '../../src/core/services/alert.service.js';
import { onboardTelegram } from '../helpers/onboarding.js';
import { keyboardOf, tgTo, tgText } from '../helpers/telegram-user.js';
import { makeLeader, makeOfficer } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An area and group of the test's own, so it does not depend on the demo tree. */
async function ownGroup(app: App) {
  const ward = await app.db.area.create({ data: { code: 'SEC-NH', name: 'Phường Thử Nghiệm', level: 'ward', policeUnit: 'Công an phường Thử Nghiệm' } });
  const group = await app.db.group.create({ data: { code: 'SEC-NH-01', name: 'Tổ An Toàn', areaId: ward.id, inviteCode: 'ANTQ234' } });
  return { ward, group };
}

const HEADLINE = 'Cháy nhà kho đầu ngõ 12';

describe('"Need help" is idempotent (M1)', () => {
  it('three presses on one alert copy open ONE urgent case; every answer names the same reference; handlers are told once', async () => {
    const { tg, t } = await startWorld('700001:need-help-token', cleanups);
    const { app } = t;
    const { group } = await ownGroup(app);
    const resident = await onboardTelegram(tg, 710001, { firstName: 'Hoa' }, { code: 'ANTQ234', joined: /Bạn đã tham gia Tổ An Toàn/ });
    const leaderId = await app.services.roles.personFor('telegram', '710002');
    await makeLeader(app, leaderId, 'SEC-NH-01');
    const officerId = await app.services.roles.personFor('telegram', '710003');
    await makeOfficer(app, officerId, 'SEC-NH');

    const draft: AlertDraft = { groupIds: [group.id], category: 'fire', severity: 'severe', headline: HEADLINE, text: 'Mọi người tránh xa khu vực.', expiresInMs: 3_600_000, exercise: false };
    const { alert } = await app.services.alerts.send(leaderId, draft);
    await resident.waitFor(new RegExp(HEADLINE));
    const copy = tg.calls.find((c) => tgTo(710001)(c) && tgText(c).includes(HEADLINE) && keyboardOf(c).length)!;
    expect(copy).toBeDefined();

    const refs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const turn = await resident.pressOn(copy, /Cần giúp đỡ/);
      const ref = /PA-[A-Z0-9]{4,5}/.exec(turn.text)?.[0];
      expect(ref, turn.text).toBeDefined();
      refs.push(ref!);
    }
    expect(new Set(refs).size).toBe(1);
    const helpCases = await app.db.case.findMany({ where: { helpKey: { startsWith: `${alert.id}:` } } });
    expect(helpCases).toHaveLength(1);
    expect(helpCases[0]).toMatchObject({ ref: refs[0], urgent: true, anonymous: false, status: 'new' });
    expect(await app.db.case.count()).toBe(1);

    // The leader and the ward police heard of it once each.
    for (const handler of [710002, 710003]) {
      await tg.waitForText(handler, new RegExp(refs[0]!), 15_000);
      const told = tg.calls.filter((c) => tgTo(handler)(c) && tgText(c).includes(refs[0]!));
      expect(told, `handler ${handler}`).toHaveLength(1);
    }
    // The sender's counts say one person needs help.
    expect(await app.services.alerts.counts(alert.id)).toMatchObject({ needHelp: 1 });
  }, 120_000);

  it('another app of the same person, and presses racing each other, still find the one open case; a closed case lets a new one open', async () => {
    const { tg, t } = await startWorld('700002:need-help-token', cleanups);
    const { app } = t;
    const { group } = await ownGroup(app);
    await onboardTelegram(tg, 720001, { firstName: 'Minh' }, { code: 'ANTQ234', joined: /Bạn đã tham gia Tổ An Toàn/ });
    const account = await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: '720001' } } });
    const personId = account.personId;
    // The same person also uses Zalo (as after /link).
    await app.db.channelAccount.create({ data: { personId, channel: 'zalo', externalId: '6ede9afa66b88fe6d6a9', chatId: '6ede9afa66b88fe6d6a9' } });
    const leaderId = await app.services.roles.personFor('telegram', '720002');
    await makeLeader(app, leaderId, 'SEC-NH-01');
    const { alert } = await app.services.alerts.send(leaderId, { groupIds: [group.id], category: 'security', severity: 'extreme', headline: 'Cướp giật', text: 'Cẩn thận.', expiresInMs: 3_600_000, exercise: false });
    // One copy per person (on the app they used last); answers are per person, whichever app they come from.
    expect(await app.db.delivery.count({ where: { alertId: alert.id, kind: 'alert', account: { personId } } })).toBe(1);

    const t1 = (key: string) => key;
    // Five presses at once (as from two instances and two apps): one case, the same reference for all.
    const answers = await Promise.all(Array.from({ length: 5 }, () => app.services.alerts.answer(personId, alert.id, 'h', t1)));
    const refs = new Set(answers.map((a) => a.caseRef));
    expect(refs.size).toBe(1);
    expect([...refs][0]).toMatch(/^PA-/);
    expect(answers.filter((a) => a.already === false)).toHaveLength(1);
    expect(await app.db.case.count({ where: { helpKey: { not: null } } })).toBe(1);

    // Received / Safe twice: the first answer's time is kept.
    const first = await app.services.alerts.answer(personId, alert.id, 'r', t1);
    expect(first.outcome).toBe('recorded');
    const delivery = () => app.db.delivery.findFirstOrThrow({ where: { alertId: alert.id, kind: 'alert', account: { personId } }, orderBy: { createdAt: 'asc' } });
    const before = (await delivery()).answeredAt;
    await new Promise((r) => setTimeout(r, 20));
    await app.services.alerts.answer(personId, alert.id, 'r', t1);
    expect((await delivery()).answeredAt).toEqual(before);
    expect((await delivery()).answer).toBe('received');

    // "Need help" again still points to the open case.
    const again = await app.services.alerts.answer(personId, alert.id, 'h', t1);
    expect(again).toMatchObject({ caseRef: [...refs][0], already: true });

    // Once that case is resolved and closed, pressing "Need help" is a new request.
    const open = await app.db.case.findFirstOrThrow({ where: { helpKey: { not: null } } });
    await app.db.case.update({ where: { id: open.id }, data: { status: 'closed', closedAt: new Date() } });
    const fresh = await app.services.alerts.answer(personId, alert.id, 'h', t1);
    expect(fresh.already).toBe(false);
    expect(fresh.caseRef).not.toBe(open.ref);
    await vi.waitFor(async () => expect(await app.db.case.count({ where: { helpKey: { not: null } } })).toBe(2));
  }, 120_000);
});
