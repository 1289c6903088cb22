/** Stored copies of photos, addressed by an unguessable token (platform URLs expire). */
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export function createMediaService(db: Db) {
  return {
    async save(bytes: Uint8Array, mime: string): Promise<string> {
      const id = randomBytes(24).toString('base64url');
      await db.media.create({ data: { id, mime, bytes: Buffer.from(bytes) } });
      return id;
    },
    async get(id: string) {
      if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return null;
      return db.media.findUnique({ where: { id } });
    },
  };
}

export type MediaService = ReturnType<typeof createMediaService>;
