/** Talks to the web chat API the way the page does, over real HTTP. */
import { randomBytes } from 'node:crypto';
import type { Outbound } from '../../src/core/messages.js';

export type WebReply = Outbound & { seq: number };

export function createWebClient(baseUrl: string, session = randomBytes(16).toString('hex')) {
  let lastSeq = 0;
  const client = {
    session,
    async post(body: Record<string, unknown>): Promise<Response> {
      return fetch(`${baseUrl}/api/web/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session, id: randomBytes(8).toString('hex'), ...body }),
      });
    },
    /** Replies that arrived since the last call. */
    async fetchNew(): Promise<{ messages: WebReply[]; locale: string }> {
      const res = await fetch(`${baseUrl}/api/web/messages?session=${session}&after=${lastSeq}`);
      const data = (await res.json()) as { messages: WebReply[]; locale: string };
      for (const m of data.messages) lastSeq = Math.max(lastSeq, m.seq);
      return data;
    },
    /** Sends text and returns the direct replies. */
    async say(text: string): Promise<WebReply[]> {
      const res = await client.post({ text });
      if (!res.ok) throw new Error(`web chat answered ${res.status}`);
      return (await client.fetchNew()).messages;
    },
    async choose(choice: string): Promise<WebReply[]> {
      const res = await client.post({ choice });
      if (!res.ok) throw new Error(`web chat answered ${res.status}`);
      return (await client.fetchNew()).messages;
    },
    /** Picks the choice whose label matches, from the last reply that offered choices. */
    async pick(replies: WebReply[], label: string | RegExp): Promise<WebReply[]> {
      const choice = findChoice(replies, label);
      return client.choose(choice.id);
    },
  };
  return client;
}

export type WebClient = ReturnType<typeof createWebClient>;

export function findChoice(replies: Outbound[], label: string | RegExp) {
  const withChoices = [...replies].reverse().find((r) => r.choices?.length);
  const all = withChoices?.choices?.flat() ?? [];
  const found = all.find((c) => (typeof label === 'string' ? c.label.includes(label) : label.test(c.label)));
  if (!found) throw new Error(`no choice ${label} among ${all.map((c) => c.label).join(' | ')}`);
  return found;
}

export const texts = (replies: Outbound[]) => replies.map((r) => r.text).join('\n---\n');

/**
 * Polls the session until a new reply matches `pattern` (a notification arrives through the
 * outbox, after the action that caused it has answered). Only replies fetched from now on count.
 */
export async function waitForWebMessage(web: WebClient, pattern: RegExp, timeoutMs: number): Promise<WebReply> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  while (Date.now() < deadline) {
    const { messages } = await web.fetchNew();
    seen.push(...messages.map((m) => m.text));
    const hit = messages.find((m) => pattern.test(m.text));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message matching ${pattern}; saw:\n${seen.join('\n---\n')}`);
}
