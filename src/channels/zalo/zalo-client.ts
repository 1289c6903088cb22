/**
 * A small typed client for the Zalo Bot API (no SDK exists on npm).
 *
 * Every call is `POST {apiRoot}/bot{token}/{method}` with a JSON body, and every answer
 * is `{ ok, result?, error_code?, description? }`. The token sits in the URL, so it is
 * redacted from every error message and log line this module produces.
 */
import { splitText } from '../split-text.js';
import { parseZaloUpdate, type ZaloUpdate } from './to-inbound.js';

/** The current production root; `https://bot-api.zapps.me` is an older alias. */
export const ZALO_API_ROOT = 'https://bot-api.zaloplatforms.com';
/** Zalo refuses text (and captions) longer than this. */
export const ZALO_TEXT_LIMIT = 2000;

type LogFn = (message: string, details?: Record<string, unknown>) => void;
/** Any console-like logger; every level is optional. */
export interface ZaloLog {
  debug?: LogFn;
  info?: LogFn;
  warn?: LogFn;
  error?: LogFn;
}

export interface ZaloClientOptions {
  /** `<numeric bot id>:<secret>`; never logged. */
  token: string;
  /** e.g. `ZALO_API_ROOT`, or a local fake's root in tests. */
  apiRoot: string;
  /** Per-request timeout for ordinary calls (getUpdates adds its poll time). Default 15 s. */
  fetchTimeoutMs?: number;
  log?: ZaloLog;
}

export interface ZaloBotInfo {
  id: string;
  account_name: string;
  account_type: string;
  can_join_groups: boolean;
}

export interface ZaloSentMessage {
  message_id: string;
  date: number;
}

export interface ZaloWebhookInfo {
  url: string;
  updated_at?: number;
}

export interface ZaloCallOptions {
  /** Aborts the request (e.g. when polling stops). */
  signal?: AbortSignal;
}

/** The API answered, but not with `ok: true` (or with a non-2xx status). */
export class ZaloApiError extends Error {
  override readonly name = 'ZaloApiError';
  readonly method: string;
  /** `error_code` from the body, else the HTTP status (401 invalid token, 408 no update, 429 quota). */
  readonly errorCode: number;
  readonly description: string;
  /** Seconds to wait, when the answer carries `parameters.retry_after` (or a Retry-After header). */
  readonly retryAfter?: number;

  constructor(method: string, errorCode: number, description: string, retryAfter?: number) {
    super(`Zalo ${method} failed: ${errorCode} ${description}`);
    this.method = method;
    this.errorCode = errorCode;
    this.description = description;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

/** The request never got an answer: DNS, connection refused, our timeout, or the caller's abort. */
export class ZaloNetworkError extends Error {
  override readonly name = 'ZaloNetworkError';
  readonly method: string;
  /** True when the caller's signal aborted the request (a stop, not a failure to report). */
  readonly aborted: boolean;
  /** True when our own fetch timeout fired. */
  readonly timedOut: boolean;

  constructor(method: string, cause: unknown, flags: { aborted?: boolean; timedOut?: boolean } = {}) {
    const aborted = flags.aborted === true;
    const timedOut = !aborted && flags.timedOut === true;
    const reason = aborted ? 'aborted' : timedOut ? 'timed out' : cause instanceof Error ? cause.message : String(cause);
    super(`Zalo ${method} request failed: ${reason}`, { cause });
    this.method = method;
    this.aborted = aborted;
    this.timedOut = timedOut;
  }
}

export interface ZaloClient {
  getMe(opts?: ZaloCallOptions): Promise<ZaloBotInfo>;
  /** Long-polls for ONE update; undefined when Zalo answers 408 ("no update"). */
  getUpdates(timeoutSeconds?: number, opts?: ZaloCallOptions): Promise<ZaloUpdate | undefined>;
  setWebhook(url: string, secretToken: string, opts?: ZaloCallOptions): Promise<ZaloWebhookInfo>;
  deleteWebhook(opts?: ZaloCallOptions): Promise<ZaloWebhookInfo>;
  getWebhookInfo(opts?: ZaloCallOptions): Promise<ZaloWebhookInfo>;
  sendMessage(chatId: string, text: string, opts?: ZaloCallOptions): Promise<ZaloSentMessage>;
  sendPhoto(chatId: string, photoUrl: string, caption?: string, opts?: ZaloCallOptions): Promise<ZaloSentMessage>;
  sendSticker(chatId: string, stickerId: string, opts?: ZaloCallOptions): Promise<ZaloSentMessage>;
  sendChatAction(chatId: string, action?: 'typing', opts?: ZaloCallOptions): Promise<void>;
  /** Splits text over 2000 chars and sends the pieces in order; returns their message ids. */
  sendText(chatId: string, text: string, opts?: ZaloCallOptions): Promise<string[]>;
  /** The raw call, for methods this client does not wrap. Returns `result`. */
  call(method: string, body?: Record<string, unknown>, opts?: ZaloCallOptions & { timeoutMs?: number }): Promise<unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits text into pieces Zalo accepts (at most 2000 characters each). */
export function splitZaloText(text: string, limit = ZALO_TEXT_LIMIT): string[] {
  return splitText(text, limit);
}

/** Creates the client. No request is made until a method is called. */
export function createZaloClient(options: ZaloClientOptions): ZaloClient {
  const { token, log } = options;
  const apiRoot = options.apiRoot.replace(/\/+$/, '');
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 15_000;

  const redact = (s: string): string => (token ? s.split(token).join('<redacted>') : s);

  /** fetch errors can embed the URL (and so the token): copy them with redacted messages. */
  function redactError(err: unknown, depth = 0): unknown {
    if (!(err instanceof Error) || depth > 3) return typeof err === 'string' ? redact(err) : err;
    const copy = new Error(redact(err.message), { cause: redactError(err.cause, depth + 1) });
    copy.name = err.name;
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) Object.assign(copy, { code });
    return copy;
  }

  async function call(
    method: string,
    body: Record<string, unknown> = {},
    opts: ZaloCallOptions & { timeoutMs?: number } = {},
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? fetchTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${apiRoot}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      const aborted = opts.signal?.aborted === true;
      const error = new ZaloNetworkError(method, redactError(err), { aborted, timedOut: timeout.aborted });
      if (!aborted) log?.warn?.(error.message, { method });
      throw error;
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const envelope = isRecord(json) ? json : {};
    if (!response.ok || envelope.ok !== true) {
      const errorCode = typeof envelope.error_code === 'number' ? envelope.error_code : response.status;
      const description = redact(
        typeof envelope.description === 'string'
          ? envelope.description
          : json === undefined
            ? `HTTP ${response.status}: response is not JSON`
            : `HTTP ${response.status}`,
      );
      const params = isRecord(envelope.parameters) ? envelope.parameters : {};
      const header = Number(response.headers.get('retry-after'));
      const retryAfter =
        typeof params.retry_after === 'number' ? params.retry_after : Number.isFinite(header) && header > 0 ? header : undefined;
      throw new ZaloApiError(method, errorCode, description, retryAfter);
    }
    log?.debug?.(`Zalo ${method} ok`, { method });
    return envelope.result;
  }

  /** Lenient on purpose: throwing after a successful send would invite a duplicate retry. */
  function sent(method: string, result: unknown): ZaloSentMessage {
    const r = isRecord(result) ? result : {};
    const id = r.message_id;
    if (typeof id !== 'string' && typeof id !== 'number') log?.warn?.(`Zalo ${method} answered without message_id`);
    return {
      message_id: typeof id === 'string' || typeof id === 'number' ? String(id) : '',
      date: typeof r.date === 'number' ? r.date : Date.now(),
    };
  }

  function webhookInfo(result: unknown): ZaloWebhookInfo {
    const r = isRecord(result) ? result : {};
    return {
      url: typeof r.url === 'string' ? r.url : '',
      ...(typeof r.updated_at === 'number' ? { updated_at: r.updated_at } : {}),
    };
  }

  const client: ZaloClient = {
    call,

    async getMe(opts) {
      const r = await call('getMe', {}, opts);
      const info = isRecord(r) ? r : {};
      return {
        id: String(info.id ?? ''),
        account_name: typeof info.account_name === 'string' ? info.account_name : '',
        account_type: typeof info.account_type === 'string' ? info.account_type : '',
        can_join_groups: info.can_join_groups === true,
      };
    },

    async getUpdates(timeoutSeconds = 30, opts) {
      try {
        // The HTTP timeout must outlast the long poll, or every quiet poll would look like a failure.
        const result = await call('getUpdates', { timeout: String(timeoutSeconds) }, {
          ...opts,
          timeoutMs: Math.max(fetchTimeoutMs, timeoutSeconds * 1000 + 5000),
        });
        if (result === undefined || result === null) return undefined;
        const update = parseZaloUpdate(result);
        if (!update) log?.warn?.('Zalo getUpdates returned an update that could not be parsed; dropped');
        return update;
      } catch (err) {
        if (err instanceof ZaloApiError && err.errorCode === 408) return undefined;
        throw err;
      }
    },

    async setWebhook(url, secretToken, opts) {
      return webhookInfo(await call('setWebhook', { url, secret_token: secretToken }, opts));
    },

    async deleteWebhook(opts) {
      return webhookInfo(await call('deleteWebhook', {}, opts));
    },

    async getWebhookInfo(opts) {
      return webhookInfo(await call('getWebhookInfo', {}, opts));
    },

    async sendMessage(chatId, text, opts) {
      return sent('sendMessage', await call('sendMessage', { chat_id: chatId, text }, opts));
    },

    async sendPhoto(chatId, photoUrl, caption, opts) {
      const body: Record<string, unknown> = { chat_id: chatId, photo: photoUrl };
      if (caption && caption.trim() !== '') body.caption = caption;
      return sent('sendPhoto', await call('sendPhoto', body, opts));
    },

    async sendSticker(chatId, stickerId, opts) {
      return sent('sendSticker', await call('sendSticker', { chat_id: chatId, sticker: stickerId }, opts));
    },

    async sendChatAction(chatId, action = 'typing', opts) {
      await call('sendChatAction', { chat_id: chatId, action }, opts);
    },

    async sendText(chatId, text, opts) {
      const pieces = splitZaloText(text);
      if (pieces.length === 0) log?.warn?.('Zalo sendText called with empty text; nothing sent');
      const ids: string[] = [];
      // Sequential on purpose: Zalo shows messages in arrival order.
      for (const piece of pieces) ids.push((await client.sendMessage(chatId, piece, opts)).message_id);
      return ids;
    },
  };
  return client;
}
