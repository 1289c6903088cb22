/**
 * The local web chat: a page at "/", a JSON API it talks to, and an inbox of replies
 * stored in the database.
 *
 * Identity is server-issued: POST /api/web/session sets an HttpOnly, SameSite=Strict cookie
 * holding a random token (the database keeps its SHA-256, see web-session.repository.ts), and
 * every other call reads that cookie. Nothing secret travels in a URL. Requests that change
 * anything must also come from this origin (Origin / Sec-Fetch-Site) with a JSON body, so a
 * cross-site form or text/plain post is refused. Addresses and sessions have rate limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../../project-root.js';
import path from 'node:path';
import type { Inbound, Outbound } from '../../core/messages.js';
import { parseCommand } from '../../core/messages.js';
import type { Logger } from '../../logger.js';
import type { WebInbox } from '../../persistence/web-inbox.repository.js';
import { SESSION_IDLE_MS, type WebSessionInfo, type WebSessions } from '../../persistence/web-session.repository.js';
import { BodyTooLargeError, parseCookies, parseJson, readBody, sendJson, sendText } from '../../http/http-util.js';
import { clientAddress, createRateLimiter, type RateLimit } from '../../http/rate-limit.js';
import type { ChannelRuntime, InboundHandler } from '../channel.js';

const MESSAGE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const MAX_JSON_BYTES = 64 * 1024;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const JSON_TYPE = /^application\/json\s*(;|$)/i;
// From the project folder, so the compiled service (dist/src/...) finds them too.
const assets = path.join(PROJECT_ROOT, 'src', 'channels', 'web', 'assets');

export const COOKIE = 'chat_session';

/** Abuse limits of the web API (in memory, per instance). */
export interface WebLimits {
  /** New sessions (and legacy take-overs) per address. */
  sessionsPerAddress: RateLimit;
  /** Messages per session; over it the person is told once, politely, and the API answers 429. */
  messagesPerSession: RateLimit;
  /** Messages per address, all sessions together (people behind one NAT share it). */
  messagesPerAddress: RateLimit;
  /** Photo uploads per address. */
  uploadsPerAddress: RateLimit;
  /** Reads (the page polls every 2 s) per address: generous, for many browsers behind one NAT. */
  readsPerAddress: RateLimit;
}

export const DEFAULT_WEB_LIMITS: WebLimits = {
  sessionsPerAddress: { limit: 20, windowMs: 60_000 },
  messagesPerSession: { limit: 30, windowMs: 10_000 },
  messagesPerAddress: { limit: 300, windowMs: 10_000 },
  uploadsPerAddress: { limit: 20, windowMs: 10 * 60_000 },
  readsPerAddress: { limit: 3000, windowMs: 60_000 },
};

function isCoordinate(value: unknown, limit: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit;
}

/** A message as the page receives it: `notification` marks one the delivery worker brought. */
export type WebMessage = Outbound & { notification?: boolean };

/** The page shows stored photos from this server's /media path (also used for direct replies, see app.ts). */
export function webPayload(out: Outbound): Outbound {
  return out.photo?.mediaId ? { ...out, photo: { url: `/media/${out.photo.mediaId}` } } : out;
}

/** An error with an HTTP status (413, 415, 429...) from the photo store is answered with it. */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

export interface WebChannelOptions {
  handle: InboundHandler;
  inbox: WebInbox;
  sessions: WebSessions;
  logger: Logger;
  /** Stores a photo already read into memory (used only when savePhotoStream is not given). */
  savePhoto?(bytes: Buffer, mime: string): Promise<string>;
  /**
   * Streams an upload to storage without buffering it (media service); returns the media id.
   * Throws an error with `status` 4xx (413 too large, 415 not an image, 429 busy, 409 not at a photo step).
   */
  savePhotoStream?(req: IncomingMessage, owner: { accountId: string; personId: string; maxBytes: number }): Promise<string>;
  /** A signed path for a stored photo (`/media/<id>?exp=..&sig=..`, 15 minutes), minted when the session reads it. */
  mediaLink?(mediaId: string): Promise<string | undefined>;
  /** The UI strings of the page, per language, from locales/<lang>/web.json. */
  uiStrings: Record<string, Record<string, string>>;
  defaultLocale: string;
  /** The language of the person behind a web account (by its public id). */
  localeOfSession(publicId: string): Promise<string | undefined>;
  /** Texts the channel itself says (rate limit, legacy roles), in the person's language. */
  t(locale: string, key: string): string;
  /** PUBLIC_URL: its origin is accepted in Origin headers, and https makes the cookie Secure. */
  publicUrl?: string;
  /** TRUST_PROXY: take the client address from X-Forwarded-For. */
  trustProxy?: boolean;
  limits?: Partial<WebLimits>;
}

export function createWebChannel(options: WebChannelOptions): ChannelRuntime & {
  route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
} {
  const { inbox, logger, sessions } = options;
  const limits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  const newSessions = createRateLimiter(limits.sessionsPerAddress);
  const sessionMessages = createRateLimiter(limits.messagesPerSession);
  const addressMessages = createRateLimiter(limits.messagesPerAddress);
  const addressUploads = createRateLimiter(limits.uploadsPerAddress);
  const addressReads = createRateLimiter(limits.readsPerAddress);
  /** Sessions (by cookie) told "slow down" in the current window: told once, then only 429s. */
  const warned = new Map<string, number>();
  const secure = options.publicUrl?.startsWith('https://') ?? false;
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined;

  // The UI strings travel in a JSON data element (no inline script: the CSP forbids it).
  const pageData = JSON.stringify({ strings: options.uiStrings, defaultLocale: options.defaultLocale })
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  const page = readFileSync(path.join(assets, 'index.html'), 'utf8')
    .replace('__CHAT_UI__', () => pageData)
    .replace('__LANG__', options.defaultLocale)
    .replace('__TITLE__', () => escapeHtml(options.uiStrings[options.defaultLocale]?.title ?? ''));
  const script = readFileSync(path.join(assets, 'chat.js'), 'utf8');
  const style = readFileSync(path.join(assets, 'chat.css'), 'utf8');

  async function store(chatId: string, out: Outbound): Promise<string[]> {
    return (await inbox.push(chatId, [webPayload(out)])).map(String);
  }

  /**
   * What the delivery worker brings (alerts, case news, polls) is a notification, not the answer to
   * the person's last message: its buttons work whenever pressed, so the page keeps them usable when
   * a newer question comes (direct replies are stored by the core in the same turn, see app.ts).
   */
  async function storeNotification(chatId: string, out: Outbound): Promise<string[]> {
    const notification: WebMessage = { ...webPayload(out), notification: true };
    return (await inbox.push(chatId, [notification])).map(String);
  }

  /** Hands a message from the page to the core, which stores the replies in the inbox as it commits the turn. */
  async function handleAndStore(inbound: Inbound): Promise<void> {
    await options.handle(inbound);
  }

  function inboundBase(session: WebSessionInfo, messageId: string) {
    return { channel: 'web' as const, accountId: session.publicId, chatId: session.publicId, chatType: 'private' as const, updateId: messageId };
  }

  function cookieHeader(token: string, maxAgeMs = SESSION_IDLE_MS): string {
    return `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  async function sessionOf(req: IncomingMessage): Promise<WebSessionInfo | undefined> {
    return sessions.resolve(parseCookies(req.headers.cookie)[COOKIE]);
  }

  /**
   * A request that changes something must come from this origin: Sec-Fetch-Site (sent by
   * browsers) must not be cross-site, and Origin, when present, must be this server's.
   */
  function sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (publicOrigin && origin === publicOrigin) return true;
    try {
      const parsed = new URL(origin);
      return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host === req.headers.host;
    } catch {
      return false;
    }
  }

  function refuseCrossSite(req: IncomingMessage, res: ServerResponse, json: boolean): boolean {
    if (!sameOrigin(req)) {
      req.resume();
      sendJson(res, 403, { error: 'cross-site request refused' });
      return true;
    }
    if (json && !JSON_TYPE.test(String(req.headers['content-type'] ?? ''))) {
      req.resume();
      sendJson(res, 415, { error: 'send application/json' });
      return true;
    }
    return false;
  }

  function tooMany(res: ServerResponse, retryMs: number, error = 'too many requests, slow down') {
    res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryMs / 1000))));
    sendJson(res, 429, { error });
  }

  /** Over a message limit: say so once per window in the person's language, then answer 429. */
  async function slowDown(session: WebSessionInfo, token: string, res: ServerResponse, retryMs: number) {
    const now = Date.now();
    const until = warned.get(token) ?? 0;
    if (until <= now) {
      warned.set(token, now + Math.max(retryMs, limits.messagesPerSession.windowMs));
      if (warned.size > 10_000) for (const [key, at] of warned) if (at <= now) warned.delete(key);
      const locale = (await options.localeOfSession(session.publicId)) ?? options.defaultLocale;
      await inbox.push(session.publicId, [{ text: options.t(locale, 'web:slowDown') }]);
    }
    tooMany(res, retryMs);
  }

  /**
   * Starts or resumes this browser's session. With a valid cookie nothing changes. Without one,
   * an old page's localStorage id (`legacy`) continues that conversation once; otherwise a new
   * person and session are made.
   */
  async function postSession(req: IncomingMessage, res: ServerResponse) {
    if (refuseCrossSite(req, res, true)) return;
    const body = parseJson(await readBody(req, MAX_JSON_BYTES)) as Record<string, unknown> | undefined;
    const current = await sessionOf(req);
    if (current) {
      const locale = (await options.localeOfSession(current.publicId)) ?? options.defaultLocale;
      return sendJson(res, 200, { ok: true, session: current.publicId, locale, ...(body?.legacy ? { legacy: 'ignored' } : {}) });
    }
    const address = clientAddress(req, options.trustProxy ?? false);
    if (!newSessions.take(address)) return tooMany(res, newSessions.retryAfterMs(address));
    let legacy: 'migrated' | 'refused' | undefined;
    let created: { token: string; session: WebSessionInfo } | undefined;
    if (body?.legacy !== undefined) {
      const outcome = await sessions.migrateLegacy(body.legacy);
      legacy = outcome.migrated ? 'migrated' : 'refused';
      if (outcome.migrated) {
        created = outcome;
        logger.info('web chat: an old browser session was moved to a server-issued one', { account: outcome.session.accountId });
        if (outcome.rolesLeftBehind) {
          const locale = (await options.localeOfSession(outcome.session.publicId)) ?? options.defaultLocale;
          await inbox.push(outcome.session.publicId, [{ text: options.t(locale, 'web:rolesNeedLink') }]);
        }
      }
    }
    created ??= await sessions.create();
    const locale = (await options.localeOfSession(created.session.publicId)) ?? options.defaultLocale;
    res.setHeader('set-cookie', cookieHeader(created.token));
    sendJson(res, 200, { ok: true, session: created.session.publicId, locale, ...(legacy ? { legacy } : {}) });
  }

  /** Ends this browser's session (the cookie is cleared as well). */
  async function deleteSession(req: IncomingMessage, res: ServerResponse) {
    if (refuseCrossSite(req, res, false)) return;
    const token = parseCookies(req.headers.cookie)[COOKIE];
    if (token) await sessions.revoke(token);
    res.setHeader('set-cookie', cookieHeader('', 0));
    sendJson(res, 200, { ok: true });
  }

  async function postMessage(req: IncomingMessage, res: ServerResponse) {
    if (refuseCrossSite(req, res, true)) return;
    // The limits are checked before any database work, so a flood costs no queries: per address,
    // then per cookie (a cookie that is no session is refused just after).
    const address = clientAddress(req, options.trustProxy ?? false);
    const cookie = parseCookies(req.headers.cookie)[COOKIE] ?? '';
    const token = TOKEN_SHAPE.test(cookie) ? cookie : ''; // odd cookies share one bucket, and no memory
    const overAddress = !addressMessages.take(address);
    const overSession = !overAddress && !sessionMessages.take(token);
    if ((overAddress || overSession) && (warned.get(token) ?? 0) > Date.now()) {
      req.resume();
      return tooMany(res, overAddress ? addressMessages.retryAfterMs(address) : sessionMessages.retryAfterMs(token));
    }
    const session = await sessionOf(req);
    if (!session) {
      req.resume();
      return sendJson(res, 401, { error: 'no session: POST /api/web/session first' });
    }
    if (overAddress || overSession) {
      req.resume();
      return slowDown(session, token, res, overAddress ? addressMessages.retryAfterMs(address) : sessionMessages.retryAfterMs(token));
    }
    const body = parseJson(await readBody(req, MAX_JSON_BYTES)) as Record<string, unknown> | undefined;
    const id = typeof body?.id === 'string' ? body.id : '';
    if (!MESSAGE_ID.test(id)) return sendJson(res, 400, { error: 'id is required' });
    const base = inboundBase(session, id);
    const location = body?.location as { latitude?: unknown; longitude?: unknown } | undefined;
    if (typeof body?.choice === 'string' && body.choice.length <= 64) {
      await handleAndStore({ ...base, kind: 'choice', choice: body.choice });
    } else if (location && isCoordinate(location.latitude, 90) && isCoordinate(location.longitude, 180)) {
      await handleAndStore({ ...base, kind: 'location', latitude: location.latitude, longitude: location.longitude });
    } else if (typeof body?.text === 'string') {
      const command = body.text.startsWith('/') ? parseCommand(body.text) : undefined;
      await handleAndStore(command ? { ...base, kind: 'command', ...command } : { ...base, kind: 'text', text: body.text });
    } else {
      return sendJson(res, 400, { error: 'text or choice is required' });
    }
    if (await sessions.resolve(parseCookies(req.headers.cookie)[COOKIE])) return sendJson(res, 200, { ok: true });
    // The person was just erased (/delete_me): the session went with them. The page gets the last
    // answer here, since it cannot fetch it any more, and nothing of it stays stored.
    const messages = await inbox.after(session.publicId, 0);
    await inbox.removeAll(session.publicId);
    res.setHeader('set-cookie', cookieHeader('', 0));
    sendJson(res, 200, { ok: true, ended: true, messages });
  }

  async function postPhoto(req: IncomingMessage, res: ServerResponse, url: URL) {
    if (refuseCrossSite(req, res, false)) return;
    const session = await sessionOf(req);
    if (!session) {
      req.resume();
      return sendJson(res, 401, { error: 'no session: POST /api/web/session first' });
    }
    const id = url.searchParams.get('id') ?? '';
    const mime = String(req.headers['content-type'] ?? '');
    if (!MESSAGE_ID.test(id)) {
      req.resume();
      return sendJson(res, 400, { error: 'id is required' });
    }
    const address = clientAddress(req, options.trustProxy ?? false);
    if (!addressUploads.take(address)) {
      req.resume();
      return tooMany(res, addressUploads.retryAfterMs(address), 'too many uploads, try again later');
    }
    let mediaId: string;
    if (options.savePhotoStream) {
      try {
        mediaId = await options.savePhotoStream(req, { accountId: session.accountId, personId: session.personId, maxBytes: MAX_PHOTO_BYTES });
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === undefined) throw error;
        req.resume();
        return sendJson(res, status, { error: error instanceof Error ? error.message : 'refused' });
      }
    } else {
      if (!options.savePhoto) throw new Error('the web chat has no photo store');
      if (!/^image\/(jpeg|png|webp|gif)$/.test(mime)) {
        req.resume();
        return sendJson(res, 415, { error: 'send a JPEG, PNG, WebP or GIF image' });
      }
      const bytes = await readBody(req, MAX_PHOTO_BYTES);
      if (bytes.length === 0) return sendJson(res, 400, { error: 'empty image' });
      mediaId = await options.savePhoto(bytes, mime);
    }
    const caption = url.searchParams.get('caption') ?? undefined;
    // The core adopts the upload by id (and only the sender's own); the page shows its local preview.
    await handleAndStore({ ...inboundBase(session, id), kind: 'photo', photo: { mediaId }, caption });
    sendJson(res, 200, { ok: true });
  }

  /**
   * Photos in this session's own messages get a signed link valid 15 minutes, minted as they are
   * read (the inbox keeps `/media/<id>`, which alone opens nothing).
   */
  async function withPhotoLinks<T extends Outbound>(messages: T[]): Promise<T[]> {
    return Promise.all(
      messages.map(async (m) => {
        const id = m.photo?.url?.match(/^\/media\/([A-Za-z0-9_-]{32})$/)?.[1];
        if (!id) return m;
        const link = await options.mediaLink?.(id);
        return { ...m, photo: link ? { url: link } : undefined };
      }),
    );
  }

  async function getMessages(req: IncomingMessage, res: ServerResponse, url: URL) {
    const address = clientAddress(req, options.trustProxy ?? false);
    if (!addressReads.take(address)) return tooMany(res, addressReads.retryAfterMs(address));
    const session = await sessionOf(req);
    if (!session) return sendJson(res, 401, { error: 'no session: POST /api/web/session first' });
    const after = Number(url.searchParams.get('after') ?? '0');
    if (!Number.isInteger(after) || after < 0) return sendJson(res, 400, { error: 'after must be a whole number' });
    const [messages, locale] = await Promise.all([inbox.after(session.publicId, after), options.localeOfSession(session.publicId)]);
    sendJson(res, 200, { messages: await withPhotoLinks(messages), locale: locale ?? options.defaultLocale });
  }

  return {
    name: 'web',
    mode: 'on',
    async start() {
      return 'web chat at /';
    },
    async stop() {},
    // Writing to the inbox has no platform to refuse or rate-limit it: replies and the worker share one path.
    send: store,
    deliver: storeNotification,
    classifyError: (error) => ({ kind: 'retry', reason: `web inbox write failed: ${error instanceof Error ? error.message : String(error)}` }),
    isGroupChat: () => false,
    async route(req, res, url) {
      try {
        if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
          sendText(res, 200, page, 'text/html; charset=utf-8');
        } else if (req.method === 'GET' && url.pathname === '/web/chat.js') {
          sendText(res, 200, script, 'text/javascript; charset=utf-8');
        } else if (req.method === 'GET' && url.pathname === '/web/chat.css') {
          sendText(res, 200, style, 'text/css; charset=utf-8');
        } else if (req.method === 'POST' && url.pathname === '/api/web/session') {
          await postSession(req, res);
        } else if (req.method === 'DELETE' && url.pathname === '/api/web/session') {
          await deleteSession(req, res);
        } else if (req.method === 'POST' && url.pathname === '/api/web/messages') {
          await postMessage(req, res);
        } else if (req.method === 'POST' && url.pathname === '/api/web/photos') {
          await postPhoto(req, res, url);
        } else if (req.method === 'GET' && url.pathname === '/api/web/messages') {
          await getMessages(req, res, url);
        } else if (url.pathname.startsWith('/api/web/')) {
          req.resume();
          sendJson(res, 404, { error: 'not found' });
        } else {
          return false;
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendJson(res, 413, { error: `too large (${error.limit} bytes at most)` });
        } else {
          logger.error('web chat request failed', { path: url.pathname, error });
          if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        }
      }
      return true;
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
