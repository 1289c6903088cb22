import type { Readable } from 'node:stream';
import type { Channel, PhotoRef } from '../messages.js';

/**
 * Fetches the bytes of a photo a person sent on a channel (platform URLs and file ids expire).
 * The stream is fenced by the adapter: allowed https hosts only, no redirects, no private
 * addresses, and it fails as soon as more than `maxBytes` arrive.
 */
export interface PhotoSource {
  fetch(channel: Channel, photo: PhotoRef, maxBytes: number): Promise<Readable>;
}

/** Why a photo was not stored; the HTTP answer and the person's message follow from it. */
export type PhotoRefusal = 'too_large' | 'unsupported_type' | 'busy' | 'bad_image' | 'empty' | 'not_expected' | 'fetch_refused';

export class PhotoRefused extends Error {
  constructor(
    readonly reason: PhotoRefusal,
    detail?: string,
  ) {
    super(detail ? `photo refused (${reason}): ${detail}` : `photo refused (${reason})`);
    this.name = 'PhotoRefused';
  }
}

/**
 * Where stored photos live: files on disk, never in the database. `ingest` streams the bytes
 * to a temporary file (failing past `maxBytes`), decides the type by magic bytes (JPEG, PNG,
 * WebP), re-encodes the image without any metadata and keeps the result under a new name.
 */
export interface MediaFiles {
  ingest(stream: Readable, maxBytes: number): Promise<{ file: string; mime: string; size: number }>;
  /** Re-encodes bytes kept by an older version (stored in the database) into a file. */
  ingestBytes(bytes: Uint8Array): Promise<{ file: string; mime: string; size: number }>;
  absolutePath(file: string): string;
  remove(file: string): Promise<void>;
  /** The key signing media links; created once and kept with the files. */
  linkSecret(): Buffer;
}
