/**
 * Drives a Zalo user against the fake Zalo Bot API server. Zalo has no buttons: every
 * choice is a numbered list answered by typing its number, so a user here finds a label's
 * number in the lists the bot sent and types it.
 */
import { randomUUID } from 'node:crypto';
import { expect, vi } from 'vitest';
import { postToWebhook, type FakeZalo, type FakeZaloCall } from '../fakes/fake-zalo-server.js';
import { matches, numberedItems } from './labels.js';
import { repliesSent } from './replies-sent.js';

/** What the bot sent to one chat in answer to one update. */
export interface ZaloTurn {
  calls: FakeZaloCall[];
  /** The texts (or captions) of those calls, joined, for matching. */
  text: string;
}

export interface ZaloUserOptions {
  /** Deliver updates to the service's webhook instead of queueing them for polling; each turn then names the reply to wait for. */
  webhook?: { url: string; secret: string };
  /** How long (ms) to wait for the bot; 15 s unless a file needs longer. */
  wait?: number;
  /**
   * `numbered` (default): `<id>-m1`, `<id>-m2`…; `random`: opaque random strings, as Zalo's are,
   * for tests that must find no trace of the user id (message ids are stored to skip repeats).
   */
  messageIds?: 'numbered' | 'random';
}

/** Messages and photos the bot sent to `chatId`. */
export const zaloTo = (chatId: string) => (c: FakeZaloCall) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.body.chat_id === chatId;
export const zaloText = (c: FakeZaloCall) => String(c.body.text ?? c.body.caption ?? '');

/**
 * Polling: handled once nothing is queued and the bot waits in getUpdates again (it polls only
 * after an update is committed), and the replies it queued were sent by the delivery worker.
 */
export async function zaloSettled(zalo: FakeZalo, timeout: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (zalo.pendingUpdates > 0 || zalo.waitingPolls === 0) {
        throw new Error(`Zalo updates not handled yet (pending ${zalo.pendingUpdates}, waiting polls ${zalo.waitingPolls})`);
      }
    },
    { timeout, interval: 5 },
  );
  await repliesSent('zalo', timeout);
}

/** A Zalo user in a private chat. Polling by default; webhook users give the reply to wait for (`expectLast`) per turn. */
export function zaloUser(zalo: FakeZalo, id: string, name: string, options: ZaloUserOptions = {}) {
  const { webhook } = options;
  const wait = options.wait ?? 15_000;
  let seq = 0;
  const messageId = () => (options.messageIds === 'random' ? randomUUID().replace(/-/g, '') : `${id}-m${++seq}`);
  const message = (extra: Record<string, unknown>) => ({
    from: { id, display_name: name, is_bot: false },
    chat: { id, chat_type: 'PRIVATE' },
    message_id: messageId(),
    date: Date.now(),
    ...extra,
  });
  /** A message to this chat matching `pattern`, among the calls from index `since` on. */
  const waitFor = (pattern: RegExp, since = 0) => zalo.waitFor((c) => zalo.sent.indexOf(c) >= since && zaloTo(id)(c) && pattern.test(zaloText(c)), wait);
  async function send(update: unknown, expectLast?: RegExp): Promise<ZaloTurn> {
    const since = zalo.sent.length;
    if (webhook) {
      const answer = await postToWebhook(webhook.url, webhook.secret, update);
      expect(answer.status).toBe(200);
      if (!expectLast) throw new Error('a webhook turn needs the reply to wait for');
      await waitFor(expectLast, since);
    } else {
      zalo.pushUpdate(update);
      await zaloSettled(zalo, wait);
    }
    const calls = zalo.sent.slice(since).filter(zaloTo(id));
    return { calls, text: calls.map(zaloText).join('\n---\n') };
  }
  /** The number of `label` in the newest numbered list that has it. */
  function numberOf(label: string | RegExp): number {
    for (const call of zalo.sent.filter(zaloTo(id)).reverse()) {
      const item = numberedItems(zaloText(call)).find(([, l]) => matches(l, label));
      if (item) return item[0];
    }
    throw new Error(`no item ${label} in any list sent to ${id}`);
  }
  const user = {
    id,
    type: (text: string, expectLast?: RegExp) => send({ event_name: 'message.text.received', message: message({ text }) }, expectLast),
    /** Types the number of `label` in the newest list that has it. */
    choose: (label: string | RegExp, expectLast?: RegExp) => user.type(String(numberOf(label)), expectLast),
    photo: (url: string, expectLast?: RegExp) => send({ event_name: 'message.image.received', message: message({ photo_url: url }) }, expectLast),
    numberOf,
    waitFor,
  };
  return user;
}
export type ZaloUser = ReturnType<typeof zaloUser>;

/**
 * A plainer Zalo user for tests about what is said, not how: each action resolves with the
 * texts of the messages (not photos) the bot sent back, once the polling loop is idle again;
 * `choose` looks only in the last numbered list.
 */
export function zaloTextUser(zalo: FakeZalo, id: string, options: { wait: number }) {
  let seq = 0;
  const isMine = (c: { method: string; body: Record<string, unknown> }) => c.method === 'sendMessage' && c.body.chat_id === id;
  async function type(text: string): Promise<string> {
    const since = zalo.sent.length;
    zalo.pushUpdate({
      event_name: 'message.text.received',
      message: { from: { id, display_name: 'Zalo user' }, chat: { id, chat_type: 'PRIVATE' }, text, message_id: `${id}-${++seq}`, date: Date.now() },
    });
    await zaloSettled(zalo, options.wait);
    return zalo.sent.slice(since).filter(isMine).map((c) => String(c.body.text)).join('\n---\n');
  }
  return {
    id,
    type,
    /** Types the number of the item labelled `label` in the last numbered list. */
    choose(label: string) {
      const lastList = zalo.sent.filter(isMine).map((c) => String(c.body.text)).reverse().find((x) => /^\d+\. /m.test(x)) ?? '';
      const item = [...lastList.matchAll(/^(\d+)\. (.+)$/gm)].find((m) => m[2]!.includes(label));
      if (!item) throw new Error(`no item "${label}" in ${lastList}`);
      return type(item[1]!);
    },
    /** Messages to this chat whose text matches. */
    received: (match: RegExp) => zalo.sent.filter((c) => isMine(c) && match.test(String(c.body.text))),
  };
}
