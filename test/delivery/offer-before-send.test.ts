/**
 * A notification's numbered choices are offered to the person's conversation before the message
 * goes out: someone who types "1" the moment an alert arrives, while the platform's answer to the
 * send has not reached the delivery worker yet, answers the alert (not the main menu's item 1).
 * The fake Telegram holds its answer to the alert's sendMessage (`holdAnswer`), so the window is
 * held open for as long as the test needs, whatever the machine's speed.
 *
 * A copy the platform refuses for good never arrived: its offer is taken back, unless the
 * conversation moved on meanwhile (the person typed /menu, started a flow).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { startFakeTelegram, type CallBody, type FakeTelegram, type HeldAnswer } from '../fakes/fake-telegram-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { makeOfficer } from '../helpers/roles.js';
import { repliesSent } from '../helpers/replies-sent.js';
import type { AlertDraft } from '../../src/core/services/alert.service.js';

const TOKEN = '123456789:AAE-fake_telegram_token_offer_before_send';
const GROUP = 'HN-GV-01';
const HEADLINE = 'Mất điện khu tập thể';
const RESIDENT = 810_000_001;
const WAIT = 15_000;

let fake: FakeTelegram | undefined;
let t: TestApp | undefined;
let held: HeldAnswer[] = [];
afterEach(async () => {
  for (const h of held) h.release(); // a failed test must not leave the worker waiting for its send
  held = [];
  await t?.dispose();
  await fake?.close();
  t = fake = undefined;
});

type App = TestApp['app'];

async function start() {
  fake = await startFakeTelegram({ token: TOKEN });
  t = await startTestApp({
    env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot },
    appOptions: { delivery: { idlePollMs: 20 } },
  });
  const app = t.app;
  const group = await app.db.group.findUniqueOrThrow({ where: { code: GROUP } });
  // A resident of the group on Telegram, inserted straight in the database (no conversation yet).
  const resident = await app.db.person.create({
    data: {
      locale: 'vi',
      displayName: 'Cư dân',
      onboardedAt: new Date(),
      accounts: { create: { channel: 'telegram', externalId: String(RESIDENT), chatId: String(RESIDENT) } },
      memberships: { create: { groupId: group.id, role: 'member', state: 'active' } },
    },
    include: { accounts: true },
  });
  // The ward officer who sends the alert is on the web chat: the resident's copy is the only Telegram message.
  const officer = await app.db.person.create({
    data: { locale: 'vi', displayName: 'Cán bộ', onboardedAt: new Date(), accounts: { create: { channel: 'web', externalId: 'officer-web', chatId: 'officer-web' } } },
  });
  await makeOfficer(app, officer.id, 'HN-GV');
  return { app, fake, groupId: group.id, accountId: resident.accounts[0]!.id, officerId: officer.id };
}

async function sendAlert(app: App, officerId: string, groupId: string) {
  const draft: AlertDraft = { groupIds: [groupId], category: 'other', severity: 'minor', headline: HEADLINE, text: 'Điện sẽ có lại trong chiều nay.', expiresInMs: 3_600_000, exercise: true };
  return (await app.services.alerts.send(officerId, draft)).alert;
}

/** The alert's copy to the resident. */
const isCopy = (body: CallBody) => String(body.chat_id) === String(RESIDENT) && String(body.text ?? '').includes(HEADLINE);

/** The fake answers the copy's sendMessage only once the test releases it. */
function holdCopy(tg: FakeTelegram): HeldAnswer {
  const h = tg.holdAnswer('sendMessage', isCopy);
  held.push(h);
  return h;
}

/**
 * An alert whose copy to the resident the platform refuses for good (400), its answer held: once
 * this returns, the copy's send has reached the fake and its choices are offered.
 */
async function alertWithRefusedCopy() {
  const { app, fake: tg, groupId, accountId, officerId } = await start();
  tg.failNext('sendMessage', { error_code: 400, description: 'Bad Request: message is too long' });
  const copyHeld = holdCopy(tg);
  const alert = await sendAlert(app, officerId, groupId);
  await copyHeld.reached;
  expect(await choicesOf(app, accountId)).toContain(`a:${alert.id}:r`);
  return { app, tg, accountId, alert, copyHeld };
}

async function choicesOf(app: App, accountId: string): Promise<string[]> {
  const conversation = await app.db.conversation.findUnique({ where: { accountId } });
  return JSON.parse(conversation?.choices ?? '[]') as string[];
}

/**
 * The resident types `text`; resolves once the bot handled it (its state and replies are
 * committed). Its replies are not waited for: they go to the chat whose alert is held.
 */
async function typed(tg: FakeTelegram, text: string): Promise<void> {
  const from = { userId: RESIDENT, firstName: 'Lan', languageCode: 'vi' };
  const update: Update = text.startsWith('/') ? tg.userCommand({ ...from, text }) : tg.userMessage({ ...from, text });
  await tg.pushUpdate(update);
  await vi.waitFor(
    () => {
      if (tg.pendingUpdates.some((u) => u.update_id === update.update_id)) throw new Error(`"${text}" not handled yet`);
    },
    { timeout: WAIT, interval: 5 },
  );
}

/** The texts of the direct replies queued for the resident, oldest first (sent or not). */
async function repliesQueued(app: App, accountId: string): Promise<string[]> {
  const rows = await app.db.delivery.findMany({ where: { accountId, kind: 'reply' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return rows.map((r) => String((JSON.parse(r.payload) as { text?: string }).text ?? ''));
}

describe('a notification\'s choices are offered before it goes out', () => {
  it('"1" typed while the platform has not yet answered the alert\'s send answers the alert', async () => {
    const { app, fake: tg, groupId, accountId, officerId } = await start();
    const copyHeld = holdCopy(tg);
    const alert = await sendAlert(app, officerId, groupId);

    // The copy has reached the resident's chat; the worker has not heard so yet.
    await copyHeld.reached;
    const copy = await app.db.delivery.findFirstOrThrow({ where: { alertId: alert.id, accountId, kind: 'alert' } });
    expect(copy.status).toBe('sending');

    await typed(tg, '1');
    // "1" is "✅ Đã nhận" of the alert: recorded on the resident's copy, and thanked for.
    expect((await app.db.delivery.findUniqueOrThrow({ where: { id: copy.id } })).answer).toBe('received');
    expect((await repliesQueued(app, accountId)).join('\n')).toMatch(/Đã ghi nhận câu trả lời của bạn/);

    // The platform's answer arrives: the copy is recorded as sent, then the thanks go out.
    copyHeld.release();
    await tg.waitForText(RESIDENT, /Đã ghi nhận câu trả lời của bạn/, WAIT);
    await repliesSent('telegram', WAIT);
    const sent = await app.db.delivery.findUniqueOrThrow({ where: { id: copy.id } });
    expect(sent).toMatchObject({ status: 'sent', answer: 'received' });
    expect(tg.refusals).toEqual([]);
  });

  it('a copy refused for good has its offer taken back', async () => {
    // Offered while the send was under way...
    const { app, accountId, alert, copyHeld } = await alertWithRefusedCopy();
    copyHeld.release();
    // ...and taken back once the copy is recorded as refused: it never arrived.
    await vi.waitFor(async () => expect((await app.db.delivery.findFirstOrThrow({ where: { alertId: alert.id, accountId } })).status).toBe('failed'), { timeout: WAIT });
    await vi.waitFor(async () => expect(await choicesOf(app, accountId)).toEqual([]), { timeout: WAIT });
  });

  it('a refused copy leaves alone what the conversation offers since (a menu typed meanwhile)', async () => {
    const { app, tg, accountId, alert, copyHeld } = await alertWithRefusedCopy();
    await typed(tg, '/menu');
    const menu = await choicesOf(app, accountId);
    expect(menu.length).toBeGreaterThan(0);
    expect(menu.some((id) => id.startsWith(`a:${alert.id}:`))).toBe(false);

    copyHeld.release();
    // The menu is sent once the refusal is recorded (and its hook has run): it is still what "1" picks.
    await repliesSent('telegram', WAIT);
    expect((await app.db.delivery.findFirstOrThrow({ where: { alertId: alert.id, accountId } })).status).toBe('failed');
    expect(await choicesOf(app, accountId)).toEqual(menu);
  });

  it('a resident in the middle of a flow keeps its numbers: the alert offers nothing over them', async () => {
    const { app, fake: tg, groupId, accountId, officerId } = await start();
    await typed(tg, '/report');
    await repliesSent('telegram', WAIT);
    const before = await app.db.conversation.findUniqueOrThrow({ where: { accountId } });
    expect(before.flow).toBeTruthy();

    const copyHeld = holdCopy(tg);
    await sendAlert(app, officerId, groupId);
    await copyHeld.reached;
    const during = await app.db.conversation.findUniqueOrThrow({ where: { accountId } });
    expect({ flow: during.flow, step: during.step, choices: during.choices }).toEqual({ flow: before.flow, step: before.step, choices: before.choices });
    copyHeld.release();
  });
});
