/**
 * Refusals end to end: the real service, the real database, the web chat over HTTP.
 * Someone with no right to a case gets a DomainError whose code is an i18n key (from the
 * services) and reads a clear Vietnamese refusal (in the chat); nothing crashes and the
 * service keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { texts, type WebClient } from '../helpers/web-client.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { onboardWeb } from '../helpers/onboarding.js';
import { DomainError } from '../../src/core/errors.js';
import { loadResources } from '../../src/i18n.js';
import type { Case } from '../../src/generated/prisma/client.js';

type Web = WebClient;

const resources = loadResources();
const INTERNAL_ERROR_VI = resources.vi!.common!.internalError!;

/** True when `code` ("ns:key") names a text in every locale. */
function isI18nKey(code: string): boolean {
  const [ns, key] = code.split(':');
  return Object.values(resources).every((lang) => typeof lang[ns!]?.[key!] === 'string');
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal, but the action was allowed');
}

let t: TestApp;
let ids: Record<'resident' | 'outsider' | 'neighbour' | 'leader' | 'otherOfficer' | 'wardOfficer', string>;
let webs: Record<'resident' | 'outsider' | 'neighbour' | 'otherOfficer', Web>;
let openCase: Case;
let resolvedCase: Case;

/** A new web chat session in the group of `inviteCode`. */
const onboard = (inviteCode: string): Promise<Web> => onboardWeb(t.baseUrl, inviteCode);

beforeAll(async () => {
  t = await startTestApp();
  const resident = await onboard('KMA234'); // HN-GV-01
  const outsider = await onboard('DBC345'); // HN-BD-03, another ward
  const neighbour = await onboard('KMA234'); // same group, not the reporter
  const leader = await onboard('KMA234');
  const wardOfficer = await onboard('KMA234');
  const otherOfficer = await onboard('DBC345');
  const idOf = async (w: Web) => (await personOf(t.app, 'web', w.session)).id;
  ids = {
    resident: await idOf(resident),
    outsider: await idOf(outsider),
    neighbour: await idOf(neighbour),
    leader: await idOf(leader),
    wardOfficer: await idOf(wardOfficer),
    otherOfficer: await idOf(otherOfficer),
  };
  await makeLeader(t.app, ids.leader, 'HN-GV-01');
  await makeOfficer(t.app, ids.wardOfficer, 'HN-GV');
  await makeOfficer(t.app, ids.otherOfficer, 'HN-BD'); // out of scope for Kim Mã
  webs = { resident, outsider, neighbour, otherOfficer };

  const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-01' } });
  const draft = { groupId: group.id, category: 'order' as const, urgent: false, description: 'Karaoke sau 23h ở ngõ 12', anonymous: true };
  openCase = (await t.app.services.cases.create(ids.resident, draft)).case;
  const second = (await t.app.services.cases.create(ids.resident, { ...draft, description: 'Đèn đường hỏng ở ngõ 5' })).case;
  resolvedCase = await t.app.services.cases.resolve(ids.leader, second.id, 'Đã báo điện lực');
});

afterAll(async () => {
  await t?.dispose();
});

describe('refusals from the case service', () => {
  it('a member of another group may do nothing to the case: every method refuses with an i18n key', async () => {
    const cases = t.app.services.cases;
    const who = ids.outsider;
    const id = openCase.id;
    const vi = (k: string) => t.app.translator.t('vi', k, {});
    // Each made when awaited: a refusal made earlier would be an unhandled rejection meanwhile.
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['handlerView', () => cases.handlerView(who, id, vi, 'vi')],
      ['reporterView', () => cases.reporterView(who, id, vi, 'vi')],
      ['acknowledge', () => cases.acknowledge(who, id)],
      ['ask', () => cases.ask(who, id, 'Ai báo vậy?')],
      ['note', () => cases.note(who, id, 'ghi chú')],
      ['resolve', () => cases.resolve(who, id, 'xong')],
      ['markDuplicate', () => cases.markDuplicate(who, id, resolvedCase.ref)],
      ['escalate', () => cases.escalate(who, id)],
      ['reopen', () => cases.reopen(who, resolvedCase.id)],
      ['reporterMessage', () => cases.reporterMessage(who, id, 'thêm thông tin')],
      ['confirmFixed', () => cases.confirmFixed(who, resolvedCase.id, true)],
    ];
    for (const [name, attempt] of attempts) {
      const error = await refusal(attempt());
      expect(error.code, name).toBe('cases:forbidden');
      expect(isI18nKey(error.code), name).toBe(true);
      // L4: someone who may not see the case is not told its reference either.
      expect(error.params.ref, name).toBeUndefined();
    }
    // Nothing changed.
    const after = await t.app.db.case.findUniqueOrThrow({ where: { id }, include: { events: true, messages: true } });
    expect(after.status).toBe('new');
    expect(after.level).toBe('group');
    expect(after.events.map((e) => e.type)).toEqual(['created']);
    expect(after.messages).toEqual([]);
    expect(await cases.queue(who)).toEqual([]);
  });

  it('a plain member of the same group and an officer of another ward are refused too', async () => {
    const cases = t.app.services.cases;
    for (const who of [ids.neighbour, ids.otherOfficer]) {
      // One at a time: a refusal made before it is awaited would be an unhandled rejection.
      for (const attempt of [() => cases.acknowledge(who, openCase.id), () => cases.escalate(who, openCase.id), () => cases.note(who, openCase.id, 'x')]) {
        const error = await refusal(attempt());
        expect(error.code).toBe('cases:forbidden');
      }
    }
    expect((await cases.queue(ids.otherOfficer)).map((c) => c.id)).not.toContain(openCase.id);
  });

  it('someone who may see the case but not do this now is told "not now", not "forbidden"', async () => {
    const cases = t.app.services.cases;
    const error = await refusal(cases.acknowledge(ids.leader, resolvedCase.id));
    expect(error.code).toBe('cases:notNow');
    expect(isI18nKey(error.code)).toBe(true);
    // The reporter may view their case but never handle it: that is "not allowed", not "not now".
    const own = await refusal(cases.acknowledge(ids.resident, openCase.id));
    expect(own.code).toBe('cases:forbidden');
  });

  it('an unknown case id is "not found", and a report into a group one is not in is refused', async () => {
    const cases = t.app.services.cases;
    const missing = await refusal(cases.acknowledge(ids.leader, 'no-such-case'));
    expect(missing.code).toBe('cases:notFound');
    expect(isI18nKey(missing.code)).toBe(true);
    const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-01' } });
    const wrongGroup = await refusal(cases.create(ids.outsider, { groupId: group.id, category: 'other', urgent: false, description: 'x', anonymous: false }));
    expect(wrongGroup.code).toBe('report:noGroup');
    expect(isI18nKey(wrongGroup.code)).toBe(true);
  });
});

describe('refusals in the web chat', () => {
  const FORBIDDEN = /Không tìm thấy phản ánh này, hoặc bạn không có quyền xem phản ánh này\./;

  it('a forged "open case" button from a member of another group reads the Vietnamese refusal, and the chat keeps working', async () => {
    const web = webs.outsider;
    const r = await web.choose(`c:${openCase.id}:open`);
    const all = texts(r);
    expect(all).toMatch(FORBIDDEN);
    expect(all).not.toContain(openCase.ref); // L4
    expect(all).not.toContain(INTERNAL_ERROR_VI);
    // Nothing of the case leaked into the refusal.
    expect(all).not.toContain('Karaoke');

    // The service and this person's conversation keep working.
    const menu = await web.say('/menu');
    expect(texts(menu)).not.toContain(INTERNAL_ERROR_VI);
    expect(menu.some((m) => m.choices?.length)).toBe(true);
    const report = await web.say('/report');
    expect(texts(report)).toMatch(/Có ai đang gặp nguy hiểm/);
    await web.say('/cancel');
  });

  it('every forged case button is refused with a readable message, never an internal error', async () => {
    for (const who of [webs.outsider, webs.neighbour, webs.otherOfficer]) {
      for (const verb of ['open', 'reply', 'fixed', 'notfixed']) {
        const target = verb === 'open' || verb === 'reply' ? openCase : resolvedCase;
        const r = await who.choose(`c:${target.id}:${verb}`);
        const all = texts(r);
        expect(all, `${verb}`).not.toContain(INTERNAL_ERROR_VI);
        expect(all, `${verb}`).toMatch(/không có quyền xem/);
      }
    }
    // The resolved case is still waiting for its reporter's answer.
    expect((await t.app.db.case.findUniqueOrThrow({ where: { id: resolvedCase.id } })).status).toBe('resolved');
  });

  it('a button for a case that does not exist is answered clearly', async () => {
    const r = await webs.outsider.choose('c:does-not-exist:open');
    expect(texts(r)).toMatch(/Không tìm thấy phản ánh này/);
    expect(texts(r)).not.toContain(INTERNAL_ERROR_VI);
  });

  it('after the refusals the rightful people still work: the reporter opens the case, the handler sees it', async () => {
    const r = await webs.resident.choose(`c:${openCase.id}:open`);
    expect(texts(r)).toContain(openCase.ref);
    expect(texts(r)).toContain('Karaoke');
    expect(texts(r)).not.toMatch(/không có quyền xem/);
    expect((await t.app.services.cases.queue(ids.wardOfficer)).map((c) => c.id)).toContain(openCase.id);
  });
});
