/** Stored copies of photos, addressed by an unguessable token (platform URLs expire). */
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import type { Channel, PhotoRef } from '../messages.js';
import type { PhotoSource } from '../ports/photo-source.js';

export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export function createMediaService(db: Db, source?: PhotoSource) {
  const service = {
    async save(bytes: Uint8Array, mime: string): Promise<string> {
      const id = randomBytes(24).toString('base64url');
      await db.media.create({ data: { id, mime, bytes: Buffer.from(bytes) } });
      return id;
    },
    async get(id: string) {
      if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return null;
      return db.media.findUnique({ where: { id } });
    },
    /** Keeps our own copy of a photo a person sent; returns its media id. */
    async adopt(channel: Channel, photo: PhotoRef): Promise<string> {
      const own = photo.url?.match(/^\/media\/([A-Za-z0-9_-]{32})$/);
      if (own && (await service.get(own[1]!))) return own[1]!;
      if (!source) throw new Error('no photo source configured');
      const { bytes, mime } = await source.fetch(channel, photo);
      if (bytes.length === 0 || bytes.length > MAX_PHOTO_BYTES) throw new Error(`photo of ${bytes.length} bytes refused`);
      return service.save(bytes, mime);
    },
  };
  return service;
}

export type MediaService = ReturnType<typeof createMediaService>;
