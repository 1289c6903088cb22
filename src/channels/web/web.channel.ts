/**
 * The local web chat: a page at "/", a JSON API it talks to, and an inbox of replies
 * stored in the database. Sessions are random ids the page keeps in localStorage.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Inbound, Outbound } from '../../core/messages.js';
import { parseCommand } from '../../core/messages.js';
import type { Logger } from '../../logger.js';
import type { WebInbox } from '../../persistence/web-inbox.repository.js';
import { BodyTooLargeError, parseJson, readBody, sendJson, sendText } from '../../http/http-util.js';
import type { ChannelRuntime, InboundHandler } from '../channel.js';

const SESSION = /^[A-Za-z0-9_-]{16,64}$/;
const MESSAGE_ID = /^[A-Za-z0-9_-]{8,64}$/;
const MAX_JSON_BYTES = 64 * 1024;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const assets = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

function isCoordinate(value: unknown, limit: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit;
}

/** The page shows stored photos from this server's /media path. */
function webPayload(out: Outbound): Outbound {
  return out.photo?.mediaId ? { ...out, photo: { url: `/media/${out.photo.mediaId}` } } : out;
}

export interface WebChannelOptions {
  handle: InboundHandler;
  inbox: WebInbox;
  logger: Logger;
  savePhoto(bytes: Buffer, mime: string): Promise<string>;
  /** The UI strings of the page, per language, from locales/<lang>/web.json. */
  uiStrings: Record<string, Record<string, string>>;
  defaultLocale: string;
  localeOfSession(session: string): Promise<string | undefined>;
}

export function createWebChannel(options: WebChannelOptions): ChannelRuntime & {
  route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
} {
  const { inbox, logger } = options;
  const page = readFileSync(path.join(assets, 'index.html'), 'utf8')
    .replace('__UI_STRINGS__', JSON.stringify(options.uiStrings).replace(/</g, '\\u003c'))
    .replace('__DEFAULT_LOCALE__', options.defaultLocale)
    .replace('__LANG__', options.defaultLocale)
    .replace('__TITLE__', options.uiStrings[options.defaultLocale]?.title ?? '');
  const script = readFileSync(path.join(assets, 'chat.js'), 'utf8');
  const style = readFileSync(path.join(assets, 'chat.css'), 'utf8');

  async function store(chatId: string, out: Outbound): Promise<string[]> {
    return (await inbox.push(chatId, [webPayload(out)])).map(String);
  }

  /** Hands a message from the page to the core and stores the replies for the page to fetch. */
  async function handleAndStore(inbound: Inbound): Promise<void> {
    const replies = await options.handle(inbound);
    await inbox.push(inbound.chatId, replies.map(webPayload));
  }

  function inboundBase(session: string, messageId: string) {
    return { channel: 'web' as const, accountId: session, chatId: session, chatType: 'private' as const, updateId: messageId };
  }

  async function postMessage(req: IncomingMessage, res: ServerResponse) {
    const body = parseJson(await readBody(req, MAX_JSON_BYTES)) as Record<string, unknown> | undefined;
    const session = typeof body?.session === 'string' ? body.session : '';
    const id = typeof body?.id === 'string' ? body.id : '';
    if (!SESSION.test(session) || !MESSAGE_ID.test(id)) return sendJson(res, 400, { error: 'session and id are required' });
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
    sendJson(res, 200, { ok: true });
  }

  async function postPhoto(req: IncomingMessage, res: ServerResponse, url: URL) {
    const session = url.searchParams.get('session') ?? '';
    const id = url.searchParams.get('id') ?? '';
    const mime = String(req.headers['content-type'] ?? '');
    if (!SESSION.test(session) || !MESSAGE_ID.test(id)) return sendJson(res, 400, { error: 'session and id are required' });
    if (!/^image\/(jpeg|png|webp|gif)$/.test(mime)) return sendJson(res, 415, { error: 'send a JPEG, PNG, WebP or GIF image' });
    const bytes = await readBody(req, MAX_PHOTO_BYTES);
    if (bytes.length === 0) return sendJson(res, 400, { error: 'empty image' });
    const mediaId = await options.savePhoto(bytes, mime);
    const caption = url.searchParams.get('caption') ?? undefined;
    await handleAndStore({ ...inboundBase(session, id), kind: 'photo', photo: { url: `/media/${mediaId}` }, caption });
    sendJson(res, 200, { ok: true, url: `/media/${mediaId}` });
  }

  async function getMessages(res: ServerResponse, url: URL) {
    const session = url.searchParams.get('session') ?? '';
    const after = Number(url.searchParams.get('after') ?? '0');
    if (!SESSION.test(session) || !Number.isInteger(after) || after < 0) return sendJson(res, 400, { error: 'session is required' });
    const [messages, locale] = await Promise.all([inbox.after(session, after), options.localeOfSession(session)]);
    sendJson(res, 200, { messages, locale: locale ?? options.defaultLocale });
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
    deliver: store,
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
        } else if (req.method === 'POST' && url.pathname === '/api/web/messages') {
          await postMessage(req, res);
        } else if (req.method === 'POST' && url.pathname === '/api/web/photos') {
          await postPhoto(req, res, url);
        } else if (req.method === 'GET' && url.pathname === '/api/web/messages') {
          await getMessages(res, url);
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
