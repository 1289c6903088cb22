/**
 * Web chat users for end-to-end tests that also wait for what reaches a user later
 * (notifications through the outbox), not only for the direct replies.
 */
import { vi } from 'vitest';
import { createWebClient, findChoice, type WebReply } from './web-client.js';
import type { TestApp } from './test-app.js';

/** A web chat user; every message the session ever received is read from the inbox table. */
export function webInboxUser(t: TestApp, options: { wait?: number } = {}) {
  const wait = options.wait ?? 15_000;
  const client = createWebClient(t.baseUrl);
  async function all(): Promise<WebReply[]> {
    const rows = await t.app.db.webMessage.findMany({ where: { session: client.session }, orderBy: { seq: 'asc' } });
    return rows.map((r) => ({ seq: r.seq, ...(JSON.parse(r.payload) as Omit<WebReply, 'seq'>) }));
  }
  return {
    client,
    /** The web account's public id (known after the first request). */
    get session() {
      return client.session;
    },
    say: (text: string) => client.say(text),
    all,
    /** The first message after inbox position `sinceSeq` matching `pattern`. */
    async waitFor(pattern: RegExp, sinceSeq = 0): Promise<WebReply> {
      return vi.waitFor(
        async () => {
          const hit = (await all()).find((m) => m.seq > sinceSeq && pattern.test(m.text));
          if (!hit) throw new Error(`no web message matching ${pattern}`);
          return hit;
        },
        { timeout: wait, interval: 20 },
      );
    },
  };
}
export type WebInboxUser = ReturnType<typeof webInboxUser>;

/** A web chat user who keeps every message received, direct or from the outbox, in `log`. */
export function webLogUser(baseUrl: string, options: { wait?: number } = {}) {
  const wait = options.wait ?? 15_000;
  const client = createWebClient(baseUrl);
  const log: WebReply[] = [];
  const record = (messages: WebReply[]) => {
    log.push(...messages);
    return messages;
  };
  const user = {
    /** The web account's public id (known after the first request). */
    get session() {
      return client.session;
    },
    log,
    say: async (text: string) => record(await client.say(text)),
    choose: async (id: string) => record(await client.choose(id)),
    /** Picks by label from these replies (the direct answer to the last action). */
    pick: async (replies: WebReply[], label: string | RegExp) => record(await client.choose(findChoice(replies, label).id)),
    /** Waits for a message (already received or still to come) matching `pattern`, from log index `since`. */
    async waitFor(pattern: RegExp, since = 0): Promise<WebReply> {
      return vi.waitFor(
        async () => {
          const hit = log.slice(since).find((m) => pattern.test(m.text));
          if (hit) return hit;
          record((await client.fetchNew()).messages);
          const late = log.slice(since).find((m) => pattern.test(m.text));
          if (!late) throw new Error(`no web message matching ${pattern}; got:\n${log.slice(since).map((m) => m.text).join('\n---\n')}`);
          return late;
        },
        { timeout: wait, interval: 20 },
      );
    },
  };
  return user;
}
export type WebLogUser = ReturnType<typeof webLogUser>;
