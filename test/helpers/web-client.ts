/** Talks to the web chat API the way the page does, over real HTTP, holding the session cookie. */
import { randomBytes } from 'node:crypto';
import type { Outbound } from '../../src/core/messages.js';

export type WebReply = Outbound & { seq: number };

/**
 * Cookie of every session a client started, by the account's public id, so a test can continue
 * a session on a restarted service with `createWebClient(newBaseUrl, web.session)`.
 */
const cookies = new Map<string, string>();

/** The `chat_session=...` pair from a Set-Cookie header, if any. */
export function sessionCookieOf(res: Response): string | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('chat_session='));
  return header?.split(';')[0];
}

/**
 * A browser-like client. It starts (or continues, given the public id of a session an earlier
 * client of this test process started) a cookie session on its first request. `session` is the
 * web account's public id, the externalId that personOf(app, 'web', client.session) looks up.
 */
export function createWebClient(baseUrl: string, continueSession?: string) {
  let lastSeq = 0;
  let cookie = continueSession ? cookies.get(continueSession) : undefined;
  if (continueSession && !cookie) throw new Error(`no cookie known for web session ${continueSession}`);
  let publicId = continueSession;
  let starting: Promise<void> | undefined;

  async function ensureSession(): Promise<void> {
    if (cookie && publicId) return;
    starting ??= (async () => {
      const res = await fetch(`${baseUrl}/api/web/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (!res.ok) throw new Error(`web session answered ${res.status}`);
      const data = (await res.json()) as { session: string };
      cookie = sessionCookieOf(res);
      if (!cookie) throw new Error('web session set no cookie');
      publicId = data.session;
      cookies.set(publicId, cookie);
    })();
    try {
      await starting;
    } finally {
      starting = undefined;
    }
  }

  const client = {
    /** The web account's public id (not a secret). Known after the first request. */
    get session(): string {
      if (!publicId) throw new Error('this web client has not talked to the server yet');
      return publicId;
    },
    /** The Cookie header value this client sends. */
    get cookie(): string | undefined {
      return cookie;
    },
    /** Starts the session now (the first message does it otherwise). */
    async start(): Promise<string> {
      await ensureSession();
      return publicId!;
    },
    async post(body: Record<string, unknown>): Promise<Response> {
      await ensureSession();
      return fetch(`${baseUrl}/api/web/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookie! },
        body: JSON.stringify({ id: randomBytes(8).toString('hex'), ...body }),
      });
    },
    /** Uploads a photo as the page does (the body as it is, its type in content-type). */
    async postPhoto(bytes: Uint8Array, mime: string, caption?: string): Promise<Response> {
      await ensureSession();
      const query = new URLSearchParams({ id: randomBytes(8).toString('hex'), ...(caption ? { caption } : {}) });
      return fetch(`${baseUrl}/api/web/photos?${query}`, { method: 'POST', headers: { 'content-type': mime, cookie: cookie! }, body: Buffer.from(bytes) });
    },
    /** Replies that arrived since the last call. */
    async fetchNew(): Promise<{ messages: WebReply[]; locale: string }> {
      await ensureSession();
      const res = await fetch(`${baseUrl}/api/web/messages?after=${lastSeq}`, { headers: { cookie: cookie! } });
      if (!res.ok) throw new Error(`web chat answered ${res.status}`);
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
