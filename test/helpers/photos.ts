/** Photos for report tests: distinct bytes, a stand-in for Zalo's CDN, and reading back what was stored or uploaded. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import sharp from 'sharp';
import type { AddressInfo } from 'node:net';
import { TINY_JPEG, type FakeTelegram, type RecordedCall } from '../fakes/fake-telegram-server.js';
import type { TestApp } from './test-app.js';
import type { Cleanups } from './world.js';

/** A JPEG that is not the fake Telegram's default one: the tiny JPEG with a comment segment. */
export function distinctJpeg(comment: string): Buffer {
  const body = Buffer.from(comment, 'latin1');
  const header = Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([TINY_JPEG.subarray(0, 2), header, body, TINY_JPEG.subarray(2)]);
}

/** Zalo photo URLs point at Zalo's CDN; here a small server plays the CDN (closed after the test). */
export async function startPhotoServer(bytes: Buffer, cleanups: Cleanups): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn/photo.jpg`, hits: () => hits };
}

/** What the service serves at a /media path. */
export async function mediaBytes(t: TestApp, mediaPath: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(`${t.baseUrl}${mediaPath}`);
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Downloads, through the fake Bot API, the file Telegram kept from an uploaded photo. */
export async function uploadedBytes(tg: FakeTelegram, call: RecordedCall): Promise<Buffer> {
  const sizes = (call.result as { photo: { file_id: string }[] }).photo;
  const res = await fetch(`${tg.apiRoot}/bot${tg.token}/getFile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ file_id: sizes[sizes.length - 1]!.file_id }),
  });
  const file = ((await res.json()) as { result: { file_path: string } }).result;
  return Buffer.from(await (await fetch(`${tg.apiRoot}/file/bot${tg.token}/${file.file_path}`)).arrayBuffer());
}

/** What an attacker would look for in a photo: GPS, camera make and model, the owner's name. */
export const EXIF_SECRETS = { make: 'Apple-Xq7Make', model: 'iPhone 15 Pro Zk9Model', owner: 'Nguyen Van A Wq3Owner' } as const;

/**
 * A JPEG like a phone's: EXIF with GPS 21°1'30"N 105°49'10"E, Make, Model, Artist and
 * CameraOwnerName (distinctive strings, so any copy of them is found), plus an XMP packet.
 */
export async function exifJpeg(width = 320, height = 240): Promise<Buffer> {
  const jpeg = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: EXIF_SECRETS.make, Model: EXIF_SECRETS.model, Artist: EXIF_SECRETS.owner },
      IFD2: { CameraOwnerName: EXIF_SECRETS.owner },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '21/1 1/1 30/1', GPSLongitudeRef: 'E', GPSLongitude: '105/1 49/1 10/1' },
    })
    .toBuffer();
  // An XMP packet (APP1) carrying the owner as well, right after SOI.
  const xmp = Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>${EXIF_SECRETS.owner}</dc:creator></x:xmpmeta>`, 'latin1');
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, (xmp.length + 2) >> 8, (xmp.length + 2) & 0xff]), xmp]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** The strings and markers that must never leave the service: EXIF's own header, XMP, and the secrets. */
export function metadataLeaks(bytes: Buffer): string[] {
  const found: string[] = [];
  for (const s of [...Object.values(EXIF_SECRETS), 'Exif\0\0', 'http://ns.adobe.com/xap', 'ICC_PROFILE']) if (bytes.includes(Buffer.from(s, 'latin1'))) found.push(s);
  if (hasGpsIfd(bytes)) found.push('GPS IFD');
  return found;
}

/** Whether a JPEG's EXIF (TIFF IFD0) points at a GPS IFD (tag 0x8825). */
export function hasGpsIfd(jpeg: Buffer): boolean {
  const at = jpeg.indexOf(Buffer.from('Exif\0\0', 'latin1'));
  if (at < 0) return false;
  const tiff = jpeg.subarray(at + 6);
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) if (u16(ifd + 2 + i * 12) === 0x8825) return true;
  return false;
}

/** A real JPEG of about `bytes` bytes (noise compresses badly), for memory tests. */
export async function largeJpeg(bytes: number): Promise<Buffer> {
  // Gaussian noise at quality 100 costs about 1.4 bytes per pixel.
  let side = Math.round(Math.sqrt(bytes / 1.4));
  for (;;) {
    const jpeg = await sharp({ create: { width: side, height: side, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 80 } } }).jpeg({ quality: 100 }).toBuffer();
    if (jpeg.length <= bytes) return jpeg;
    side = Math.floor(side * Math.sqrt(bytes / jpeg.length) * 0.995);
  }
}

/** A link to a stored photo as the service signs it for someone allowed to see it. */
export async function signedMedia(t: TestApp, mediaId: string): Promise<string> {
  const link = await t.app.services.media.signedPath(mediaId);
  if (!link) throw new Error(`no stored photo ${mediaId}`);
  return link;
}

/** The stored (re-encoded) copy of a photo, as the service keeps it on disk. */
export async function storedBytes(t: TestApp, mediaId: string): Promise<Buffer> {
  const content = await t.app.services.media.content(mediaId);
  if (!content?.path) throw new Error(`no stored file for ${mediaId}`);
  return readFileSync(content.path);
}

/**
 * A small photo padded to about `bytes` bytes with APP15 segments of random data (as an
 * attacker, or a camera with huge maker notes, would): cheap to decode, but every byte must
 * still be streamed, stored and stripped.
 */
export async function paddedJpeg(bytes: number): Promise<Buffer> {
  const base = await exifJpeg();
  const segments: Buffer[] = [];
  let size = base.length;
  while (size + 65_537 <= bytes) {
    const data = randomBytes(65_533);
    segments.push(Buffer.from([0xff, 0xef, 0xff, 0xff]), data);
    size += 65_537;
  }
  return Buffer.concat([base.subarray(0, 2), ...segments, base.subarray(2)]);
}
