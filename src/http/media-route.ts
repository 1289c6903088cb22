/**
 * GET /media/<id>?exp=..&sig=..: a stored photo, only through a link the service signed for
 * someone allowed to see it (valid 15 minutes). Anything else is a plain 404, so a probe learns
 * nothing. The answer can never run as a page: nosniff, a sandboxing CSP, a fixed file name.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaService } from '../core/services/media.service.js';
import { PhotoRefused, type PhotoRefusal } from '../core/ports/photo-source.js';
import type { Logger } from '../logger.js';
import { sendJson } from './http-util.js';

export const MEDIA_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-disposition': 'inline; filename="photo.jpg"',
  'content-security-policy': "sandbox; default-src 'none'",
  'cache-control': 'private, no-store',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

export function createMediaRoute(media: MediaService, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const match = url.pathname.match(/^\/media\/([A-Za-z0-9_-]+)$/);
    if (!match) return false;
    const notFound = () => {
      for (const [name, value] of Object.entries(MEDIA_HEADERS)) res.setHeader(name, value);
      sendJson(res, 404, { error: 'not found' });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return (notFound(), true);
    const id = match[1]!;
    if (!(await media.verifyLink(id, url.searchParams.get('exp'), url.searchParams.get('sig')))) return (notFound(), true);
    const content = await media.content(id);
    if (!content) return (notFound(), true);
    const head = { ...MEDIA_HEADERS, 'content-type': content.mime };
    if (content.bytes) {
      res.writeHead(200, { ...head, 'content-length': content.bytes.length });
      res.end(req.method === 'HEAD' ? undefined : Buffer.from(content.bytes));
      return true;
    }
    const file = createReadStream(content.path);
    file.once('open', () => {
      res.writeHead(200, { ...head, 'content-length': content.size });
      if (req.method === 'HEAD') {
        file.destroy();
        res.end();
      } else file.pipe(res);
    });
    file.once('error', (error) => {
      logger.warn('media file could not be read', { id, error });
      if (!res.headersSent) notFound();
      else res.destroy();
    });
    res.once('close', () => file.destroy());
    return true;
  };
}

/** A refusal of an upload, with the HTTP status the web channel answers (it reads `status`). */
export class UploadRefused extends Error {
  constructor(
    readonly status: 400 | 409 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
    this.name = 'UploadRefused';
  }
}

const STATUS_OF: Record<PhotoRefusal, UploadRefused['status']> = {
  too_large: 413,
  unsupported_type: 415,
  bad_image: 415,
  busy: 429,
  empty: 400,
  not_expected: 409,
  fetch_refused: 400,
};

const MESSAGE_OF: Record<PhotoRefusal, string> = {
  too_large: 'the photo is too large',
  unsupported_type: 'send a JPEG, PNG or WebP photo',
  bad_image: 'the photo could not be read',
  busy: 'too many photos are being processed: try again in a moment',
  empty: 'empty or interrupted upload',
  not_expected: 'no photo is expected now: start a report (or add information to one) first',
  fetch_refused: 'refused',
};

/**
 * The web chat's upload (POST /api/web/photos body): accepted only while the account is at a
 * photo step, streamed to disk with the byte cap, typed by magic bytes, re-encoded. Refusals
 * throw UploadRefused (409, 413, 415, 429, 400); the request body is left for the caller to drain.
 */
export function createUploadHandler(media: MediaService) {
  return async (req: IncomingMessage, owner: { accountId: string; maxBytes: number }): Promise<string> => {
    const personId = await media.photoExpectedForAccount(owner.accountId);
    if (!personId) throw new UploadRefused(409, MESSAGE_OF.not_expected);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > owner.maxBytes) throw new UploadRefused(413, MESSAGE_OF.too_large);
    try {
      return await media.saveUploadStream(req, { ownerPersonId: personId, maxBytes: owner.maxBytes });
    } catch (error) {
      if (error instanceof PhotoRefused) throw new UploadRefused(STATUS_OF[error.reason], MESSAGE_OF[error.reason]);
      throw error;
    }
  };
}
