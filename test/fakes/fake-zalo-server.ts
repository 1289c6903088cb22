/**
 * A local fake of the Zalo Bot API over real HTTP, for tests.
 *
 * It is deliberately strict: it refuses what Zalo refuses (wrong token, unknown method,
 * empty or over-long text, any button/keyboard field, a photo without a URL) and
 * records every refusal, so a test can assert `refusals` is empty and catch code that
 * would fail against the real platform. getUpdates long-polls and hands out ONE update
 * per call, answering 408 when nothing arrives, like the real API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export const FAKE_ZALO_TOKEN = '1234567890:fake-zalo-secret-token';
const TEXT_LIMIT = 2000;
const METHODS = new Set([
  'getMe',
  'getUpdates',
  'setWebhook',
  'deleteWebhook',
  'getWebhookInfo',
  'sendMessage',
  'sendPhoto',
  'sendSticker',
  'sendChatAction',
]);

export interface FakeZaloCall {
  method: string;
  body: Record<string, unknown>;
  /** Epoch ms when the fake accepted it. */
  at: number;
}

export interface FakeZaloRefusal {
  method: string;
  body: unknown;
  reason: string;
  status: number;
}

export interface FakeZaloFailure {
  /** HTTP status to answer with (e.g. 429, 500). */
  status: number;
  /** `error_code` in the body; defaults to `status`. */
  error_code?: number;
  description?: string;
  /** Adds `parameters.retry_after` (seconds), as a quota answer might. */
  retry_after?: number;
}

export interface FakeZaloRequest {
  method: string;
  at: number;
  outcome: 'ok' | 'refused' | 'injected' | 'no-update';
}

export interface FakeZalo {
  /** Pass to `createZaloClient({ apiRoot })`. */
  readonly apiRoot: string;
  readonly token: string;
  /** Every accepted call except getUpdates (which would flood the list), in order. */
  readonly sent: FakeZaloCall[];
  /** Every request the fake refused the way Zalo would. Tests should usually expect `[]`. */
  readonly refusals: FakeZaloRefusal[];
  /** Every request, getUpdates included, with how it ended. */
  readonly requests: FakeZaloRequest[];
  /** setWebhook/deleteWebhook calls in order, with the URL each left in place. */
  readonly webhookCalls: Array<{ method: 'setWebhook' | 'deleteWebhook'; webhookUrl: string; at: number }>;
  /** The currently registered webhook URL ('' when none). */
  readonly webhookUrl: string;
  readonly webhookSecret: string | undefined;
  /** Queues an update (flat `{ event_name, message }`) for the next getUpdates call. */
  pushUpdate(update: unknown): void;
  /** Updates queued and not yet fetched. */
  readonly pendingUpdates: number;
  /** getUpdates requests currently held open, waiting for an update. */
  readonly waitingPolls: number;
  /** Resolves with the first accepted call (already sent or future) matching `predicate`. */
  waitFor(predicate: (call: FakeZaloCall) => boolean, timeoutMs?: number): Promise<FakeZaloCall>;
  /** Makes the next call to `method` fail with the given answer (queued; one per call). */
  failNext(method: string, failure: FakeZaloFailure): void;
  /** POSTs `update` to the registered webhook with its secret, as Zalo would. */
  deliverToWebhook(update: unknown): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** POSTs an update to a webhook the way Zalo does: JSON body plus the secret header. */
export async function postToWebhook(
  url: string,
  secret: string,
  update: unknown,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Bot-Api-Secret-Token': secret },
    body: JSON.stringify(update),
  });
  return { status: response.status, body: await response.text() };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Zalo has no buttons of any kind: finds a field that tries to send some, at any depth. */
function findButtonField(value: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (/reply_markup|keyboard|button|quick_repl|callback/i.test(key)) return key;
    const nested = findButtonField(inner, depth + 1);
    if (nested) return nested;
  }
  return undefined;
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Zalo requires https; a local http URL is allowed so tests can run a webhook on 127.0.0.1. */
function isAcceptableWebhookUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}

function textProblem(field: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') return `${field} is required`;
  if (value.trim().length === 0) return `${field} is empty`;
  if (value.length > TEXT_LIMIT) return `${field} is longer than ${TEXT_LIMIT} characters (${value.length})`;
  return undefined;
}

/** Checks the parameters of `method`; returns the refusal reason or undefined. */
function validate(method: string, body: Record<string, unknown>): string | undefined {
  const needsChat = ['sendMessage', 'sendPhoto', 'sendSticker', 'sendChatAction'].includes(method);
  if (needsChat && !nonEmptyString(body.chat_id)) return 'chat_id is required (a string)';
  switch (method) {
    case 'sendMessage':
      return textProblem('text', body.text, true);
    case 'sendPhoto':
      if (!isHttpUrl(body.photo)) return 'photo must be a public image URL';
      return textProblem('caption', body.caption, false);
    case 'sendSticker':
      return nonEmptyString(body.sticker) ? undefined : 'sticker is required';
    case 'sendChatAction':
      return body.action === 'typing' ? undefined : 'action must be "typing"';
    case 'setWebhook': {
      if (!isAcceptableWebhookUrl(body.url)) return 'url must be an https URL';
      const secret = body.secret_token;
      if (typeof secret !== 'string' || secret.length < 8 || secret.length > 256) return 'secret_token must be 8-256 characters';
      return undefined;
    }
    default:
      return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function answer(res: ServerResponse, status: number, payload: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

interface PollWaiter {
  res: ServerResponse;
  deliver(update: unknown): void;
}

/** Starts the fake on 127.0.0.1 with a random free port. */
export async function startFakeZalo(options: { token?: string } = {}): Promise<FakeZalo> {
  const token = options.token ?? FAKE_ZALO_TOKEN;
  const sent: FakeZaloCall[] = [];
  const refusals: FakeZaloRefusal[] = [];
  const requests: FakeZaloRequest[] = [];
  const webhookCalls: FakeZalo['webhookCalls'] = [];
  const queue: unknown[] = [];
  const pollers: PollWaiter[] = [];
  const failures = new Map<string, FakeZaloFailure[]>();
  const sentListeners = new Set<(call: FakeZaloCall) => void>();
  let webhookUrl = '';
  let webhookSecret: string | undefined;

  function refuse(res: ServerResponse, method: string, body: unknown, status: number, reason: string): void {
    refusals.push({ method, body, reason, status });
    requests.push({ method, at: Date.now(), outcome: 'refused' });
    answer(res, status, { ok: false, error_code: status, description: reason });
  }

  function accept(res: ServerResponse, method: string, body: Record<string, unknown>, result: unknown): void {
    const call: FakeZaloCall = { method, body, at: Date.now() };
    requests.push({ method, at: call.at, outcome: 'ok' });
    if (method !== 'getUpdates') {
      sent.push(call);
      for (const listener of [...sentListeners]) listener(call);
    }
    answer(res, 200, result === undefined ? { ok: true } : { ok: true, result });
  }

  function sentResult(): { message_id: string; date: number } {
    return { message_id: randomUUID().replace(/-/g, ''), date: Date.now() };
  }

  function longPoll(res: ServerResponse, body: Record<string, unknown>): void {
    const next = queue.shift();
    if (next !== undefined) return accept(res, 'getUpdates', body, next);
    const requested = Number(body.timeout ?? 30);
    const seconds = Number.isFinite(requested) ? Math.min(Math.max(requested, 0), 60) : 30;
    const waiter: PollWaiter = {
      res,
      deliver: (update) => {
        clearTimeout(timer);
        accept(res, 'getUpdates', body, update);
      },
    };
    const drop = (): void => {
      const i = pollers.indexOf(waiter);
      if (i >= 0) pollers.splice(i, 1);
    };
    const timer = setTimeout(() => {
      drop();
      requests.push({ method: 'getUpdates', at: Date.now(), outcome: 'no-update' });
      answer(res, 408, { ok: false, error_code: 408, description: 'Request timeout' });
    }, seconds * 1000);
    // A client that gave up (aborted) must not swallow the next update.
    res.on('close', () => {
      clearTimeout(timer);
      drop();
    });
    pollers.push(waiter);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Read the body first, even for requests about to be refused, so keep-alive stays clean.
    const raw = await readBody(req);
    let body: unknown = {};
    let badJson = false;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }

    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const match = /^\/bot([^/]+)\/([^/]+)$/.exec(path);
    if (!match) return refuse(res, '(no method)', body, 404, 'Not Found');
    const method = decodeURIComponent(match[2]!);
    if (req.method !== 'POST') return refuse(res, method, body, 405, 'every call is POST');
    if (decodeURIComponent(match[1]!) !== token) return refuse(res, method, body, 401, 'Unauthorized');
    if (!METHODS.has(method)) return refuse(res, method, body, 404, 'Not Found');
    if (badJson) return refuse(res, method, body, 400, 'body is not JSON');
    if (!isRecord(body)) return refuse(res, method, body, 400, 'body must be a JSON object');
    const buttons = findButtonField(body);
    if (buttons) return refuse(res, method, body, 400, `Zalo has no buttons or keyboards (${buttons})`);

    const failure = failures.get(method)?.shift();
    if (failure) {
      requests.push({ method, at: Date.now(), outcome: 'injected' });
      const code = failure.error_code ?? failure.status;
      return answer(res, failure.status, {
        ok: false,
        error_code: code,
        description: failure.description ?? `Injected ${code}`,
        ...(failure.retry_after !== undefined ? { parameters: { retry_after: failure.retry_after } } : {}),
      });
    }

    const problem = validate(method, body);
    if (problem) return refuse(res, method, body, 400, problem);

    const now = Date.now();
    switch (method) {
      case 'getMe':
        return accept(res, method, body, {
          id: token.split(':')[0],
          account_name: 'fake_zalo_bot',
          account_type: 'BASIC',
          can_join_groups: false,
        });
      case 'getUpdates':
        if (webhookUrl) return refuse(res, method, body, 409, 'a webhook is set: call deleteWebhook before polling');
        return longPoll(res, body);
      case 'setWebhook':
        webhookUrl = body.url as string;
        webhookSecret = body.secret_token as string;
        webhookCalls.push({ method, webhookUrl, at: now });
        return accept(res, method, body, { url: webhookUrl, updated_at: now });
      case 'deleteWebhook':
        webhookUrl = '';
        webhookSecret = undefined;
        webhookCalls.push({ method, webhookUrl, at: now });
        return accept(res, method, body, { url: '', updated_at: now });
      case 'getWebhookInfo':
        return accept(res, method, body, { url: webhookUrl, updated_at: now });
      case 'sendChatAction':
        return accept(res, method, body, undefined);
      default:
        return accept(res, method, body, sentResult());
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answer(res, 500, { ok: false, error_code: 500, description: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    sent,
    refusals,
    requests,
    webhookCalls,
    get webhookUrl() {
      return webhookUrl;
    },
    get webhookSecret() {
      return webhookSecret;
    },
    get pendingUpdates() {
      return queue.length;
    },
    get waitingPolls() {
      return pollers.filter((p) => !p.res.destroyed && !p.res.writableEnded).length;
    },

    pushUpdate(update) {
      // Hand it to a waiting long poll whose client is still there, else queue it.
      while (pollers.length > 0) {
        const poller = pollers.shift()!;
        if (!poller.res.destroyed && !poller.res.writableEnded) return poller.deliver(update);
      }
      queue.push(update);
    },

    waitFor(predicate, timeoutMs = 2000) {
      const already = sent.find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const listener = (call: FakeZaloCall): void => {
          if (!predicate(call)) return;
          clearTimeout(timer);
          sentListeners.delete(listener);
          resolve(call);
        };
        const timer = setTimeout(() => {
          sentListeners.delete(listener);
          const seen = sent.map((c) => c.method).join(', ') || 'nothing';
          const refused = refusals.map((r) => `${r.method}: ${r.reason}`).join('; ') || 'none';
          reject(new Error(`fake Zalo: no matching call within ${timeoutMs} ms (sent: ${seen}; refusals: ${refused})`));
        }, timeoutMs);
        sentListeners.add(listener);
      });
    },

    failNext(method, failure) {
      const list = failures.get(method) ?? [];
      list.push(failure);
      failures.set(method, list);
    },

    async deliverToWebhook(update) {
      if (!webhookUrl || webhookSecret === undefined) throw new Error('fake Zalo: no webhook is set');
      return postToWebhook(webhookUrl, webhookSecret, update);
    },

    async close() {
      sentListeners.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
