/**
 * A direct reply goes from the turn that wrote it straight to this instance's sender when nothing
 * of its channel is queued: stored claimed by the sender in the turn's transaction and handed over
 * in memory after the commit, it costs no claim (the queue's statement that finds and takes rows).
 * What must not change: a reply never overtakes an older message of its chat, whether that message
 * waits in the queue (a retry time) or its send just failed and is being recorded.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { statementCounter } from '../helpers/statement-counter.js';
import { repliesSent } from '../helpers/replies-sent.js';
import type { Inbound } from '../../src/core/messages.js';

const TOKEN = '123456789:AAE-fake_telegram_token_reply_handover';
const CHAT = '820000001';
const WAIT = 15_000;

let fake: FakeTelegram | undefined;
let t: TestApp | undefined;
let counter: ReturnType<typeof statementCounter> | undefined;
afterEach(async () => {
  counter?.restore();
  await t?.dispose();
  await fake?.close();
  t = fake = counter = undefined;
});

let update = 0;
/** A message of the resident's, handled as the Telegram channel hands it to the core. */
function say(app: TestApp['app'], payload: Partial<Inbound>) {
  const from = { channel: 'telegram' as const, accountId: CHAT, chatId: CHAT, chatType: 'private' as const, displayName: 'Chị Lan' };
  return app.core.handle({ ...from, updateId: `h${++update}`, ...payload } as Inbound);
}

/** Texts the fake received for the chat, in the order they arrived. */
const textsTo = (tg: FakeTelegram) => tg.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === CHAT).map((c) => String(c.body.text ?? ''));

/** A resident who has read the privacy notice, talking to the bot on Telegram (sender running here). */
async function start(idlePollMs = 50) {
  fake = await startFakeTelegram({ token: TOKEN });
  t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot }, appOptions: { delivery: { idlePollMs } } });
  const app = t.app;
  await say(app, { kind: 'command', command: 'start', args: '' } as Partial<Inbound>);
  const account = await app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: CHAT } } });
  await app.services.people.markOnboarded(account.personId);
  await repliesSent('telegram', WAIT, CHAT);
  return { app, tg: fake, account };
}

const isClaim = (statement: string) => /^UPDATE "Delivery" SET "status" = 'sending'/.test(statement);

describe('a direct reply handed to the sender', () => {
  it('goes out without a claim when nothing of its channel is queued, and is recorded as sent', async () => {
    // A long idle pause: the queue is looked at only when a kick says something was queued.
    const { app, tg } = await start(60_000);
    counter = statementCounter();
    const since = tg.calls.length;
    const statements = await counter.during(async () => {
      const replies = await say(app, { kind: 'command', command: 'menu', args: '' } as Partial<Inbound>);
      expect(replies.length).toBeGreaterThan(0);
      await tg.waitForText(CHAT, /Bạn muốn làm gì/, WAIT, { since });
      await repliesSent('telegram', WAIT, CHAT); // the send recorded
    });
    expect(textsTo(tg).at(-1)).toMatch(/Bạn muốn làm gì/);
    expect(statements.filter(isClaim), statements.join('\n')).toEqual([]);
    const row = await app.db.delivery.findFirstOrThrow({ where: { chatId: CHAT }, orderBy: { createdAt: 'desc' } });
    expect(row).toMatchObject({ status: 'sent', kind: 'reply' });
    expect(row.platformMessageId).toBeTruthy();
  });

  it('waits behind an older message of its chat that waits for a retry, and arrives after it', async () => {
    const { app, tg, account } = await start();
    // A notice to the chat that failed and comes back in a second: it was there first.
    const at = new Date();
    await app.db.delivery.create({
      data: {
        kind: 'notice',
        channel: 'telegram',
        accountId: account.id,
        chatId: CHAT,
        payload: JSON.stringify({ text: 'Thông báo cũ: họp tổ dân phố tối nay.' }),
        status: 'queued',
        attempts: 1,
        nextAttemptAt: new Date(at.getTime() + 1_000),
        createdAt: new Date(at.getTime() - 1_000),
      },
    });
    await say(app, { kind: 'command', command: 'menu', args: '' } as Partial<Inbound>);
    const reply = await app.db.delivery.findFirstOrThrow({ where: { chatId: CHAT, kind: 'reply' }, orderBy: { createdAt: 'desc' } });
    expect(reply.status).toBe('queued'); // not handed over: the queue keeps the chat's order
    await tg.waitForText(CHAT, /Thông báo cũ/, WAIT);
    await tg.waitForText(CHAT, /Bạn muốn làm gì/, WAIT);
    const texts = textsTo(tg);
    expect(texts.findIndex((text) => /Thông báo cũ/.test(text))).toBeLessThan(texts.findIndex((text) => /Bạn muốn làm gì/.test(text)));
  });

  it('after a send of its chat failed, the next reply arrives only after that message is sent again', async () => {
    const { app, tg } = await start();
    // The menu's send is refused for a moment (429, retry after 1 s); the resident asks for help meanwhile.
    tg.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    await say(app, { kind: 'command', command: 'menu', args: '' } as Partial<Inbound>);
    await vi.waitFor(() => expect(tg.failures.some((f) => f.method === 'sendMessage' && String(f.body.chat_id) === CHAT)).toBe(true), { timeout: WAIT });
    await say(app, { kind: 'command', command: 'help', args: '' } as Partial<Inbound>);
    await repliesSent('telegram', WAIT, CHAT);
    const texts = textsTo(tg);
    const menu = texts.findIndex((text) => /Bạn muốn làm gì/.test(text));
    expect(menu, texts.join('\n---\n')).toBeGreaterThanOrEqual(0);
    // The help (sent after the menu was refused) arrives after the menu, not before it.
    expect(texts.length - 1 - menu, texts.join('\n---\n')).toBeGreaterThan(0);
  });
});
