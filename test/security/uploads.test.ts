/**
 * Web uploads cannot hurt the process or the reporter (security review H1, H2): only a session
 * at a photo step may upload; the type is decided by magic bytes (JPEG, PNG, WebP); bodies over
 * 10 MB get 413 without being buffered; too many at once get 429; what is kept is a re-encoded
 * file without metadata, never bytes in the database; orphans are swept.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startTestApp, TEST_POSTGRES_URL, type TestApp } from '../helpers/test-app.js';
import { onboardWeb } from '../helpers/onboarding.js';
import { texts, type WebClient } from '../helpers/web-client.js';
import { personOf } from '../helpers/roles.js';
import { EXIF_SECRETS, exifJpeg, metadataLeaks, signedMedia, mediaBytes } from '../helpers/photos.js';
import { PhotoRefused } from '../../src/core/ports/photo-source.js';
import type { Cleanups } from '../helpers/world.js';

const MB = 1024 * 1024;
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function app(): Promise<TestApp> {
  const t = await startTestApp();
  cleanups.push(() => t.dispose());
  return t;
}

/** A resident of Tổ dân phố số 1 whose report waits at the photo step. */
async function atPhotoStep(t: TestApp): Promise<WebClient> {
  const web = await onboardWeb(t.baseUrl, 'KMA234');
  let r = await web.say('/report');
  r = await web.pick(r, 'Không');
  r = await web.pick(r, 'Cháy');
  r = await web.say('Khói bốc lên từ kho sau chợ');
  expect(texts(r)).toMatch(/Bạn có ảnh chụp sự việc không/);
  return web;
}

const mediaDir = (t: TestApp) => path.resolve(t.app.config.media.dir);
const storedFiles = (t: TestApp) => readdirSync(mediaDir(t)).filter((f) => f.endsWith('.jpg'));
const tempFiles = (t: TestApp) => readdirSync(path.join(mediaDir(t), 'tmp'));

async function conversationOf(t: TestApp, web: WebClient) {
  const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: web.session } } });
  return t.app.db.conversation.findUniqueOrThrow({ where: { accountId: account.id } });
}

describe('web photo uploads', () => {
  it('are refused (409) outside a photo step, before any byte is stored', async () => {
    const t = await app();
    const web = await onboardWeb(t.baseUrl, 'KMA234');
    const res = await web.postPhoto(await exifJpeg(), 'image/jpeg');
    expect(res.status).toBe(409);
    expect(await t.app.db.media.count()).toBe(0);
    expect(storedFiles(t)).toEqual([]);
  }, 60_000);

  it('decide the type by magic bytes: SVG, HTML, GIF and empty bodies are refused whatever the header says; the step waits on', async () => {
    const t = await app();
    const web = await atPhotoStep(t);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');
    const html = Buffer.from('<!doctype html><script>alert(document.cookie)</script>');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1');
    expect((await web.postPhoto(svg, 'image/svg+xml')).status).toBe(415);
    expect((await web.postPhoto(svg, 'image/jpeg')).status).toBe(415);
    expect((await web.postPhoto(html, 'image/png')).status).toBe(415);
    expect((await web.postPhoto(gif, 'image/gif')).status).toBe(415);
    // A JPEG header followed by garbage is not an image either: sharp cannot decode it.
    expect((await web.postPhoto(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)]), 'image/jpeg')).status).toBe(415);
    expect((await web.postPhoto(Buffer.alloc(0), 'image/jpeg')).status).toBe(400);
    expect(await t.app.db.media.count()).toBe(0);
    expect(storedFiles(t)).toEqual([]);
    expect(tempFiles(t)).toEqual([]);
    expect(await conversationOf(t, web)).toMatchObject({ flow: 'report', step: 'photo' });
  }, 60_000);

  it('over 10 MB get 413, announced or streamed, and nothing stays on disk', async () => {
    const t = await app();
    const web = await atPhotoStep(t);
    const tooBig = Buffer.concat([(await exifJpeg()).subarray(0, 4), Buffer.alloc(10 * MB + 1, 0)]);
    expect((await web.postPhoto(tooBig, 'image/jpeg')).status).toBe(413);
    // Streamed (chunked, no content-length): cut off by the streaming cap.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]));
        for (let i = 0; i < 11; i++) controller.enqueue(new Uint8Array(MB));
        controller.close();
      },
    });
    const res = await fetch(`${t.baseUrl}/api/web/photos?id=streamedbig01`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', cookie: web.cookie! },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await t.app.db.media.count()).toBe(0);
    expect(storedFiles(t)).toEqual([]);
    expect(tempFiles(t)).toEqual([]);
  }, 60_000);

  it('keep a re-encoded file without EXIF, GPS or XMP; the database holds metadata only', async () => {
    const t = await app();
    const web = await atPhotoStep(t);
    const original = await exifJpeg();
    expect(metadataLeaks(original).sort()).toEqual([...Object.values(EXIF_SECRETS), 'Exif\0\0', 'GPS IFD', 'http://ns.adobe.com/xap'].sort());
    const res = await web.postPhoto(original, 'image/jpeg');
    expect(res.status).toBe(200);
    expect(texts((await web.fetchNew()).messages)).toMatch(/Đã nhận ảnh/);

    const [row] = await t.app.db.media.findMany();
    const person = await personOf(t.app, 'web', web.session);
    expect(row).toMatchObject({ mime: 'image/jpeg', bytes: null, ownerPersonId: person.id });
    const file = readFileSync(path.join(mediaDir(t), row!.path!));
    expect(file.length).toBe(row!.size);
    expect(metadataLeaks(file)).toEqual([]);
    const meta = await sharp(file).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    // Nowhere in the database file either.
    const dbBytes = TEST_POSTGRES_URL ? Buffer.from(JSON.stringify(await t.app.db.media.findMany())) : readFileSync(path.join(t.dir, 'bot.db'));
    for (const secret of Object.values(EXIF_SECRETS)) expect(dbBytes.includes(Buffer.from(secret))).toBe(false);
    expect(tempFiles(t)).toEqual([]);
  }, 60_000);

  it('answer 429 when too many run at once (per person and overall), before reading their bodies', async () => {
    const t = await app();
    const media = t.app.services.media;
    const held = Array.from({ length: 4 }, () => new PassThrough());
    const jpegHead = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
    // Two for one person fill that person's budget; two more people fill the overall budget of 4.
    const running = [
      media.saveUploadStream(held[0]!, { ownerPersonId: 'person-a' }),
      media.saveUploadStream(held[1]!, { ownerPersonId: 'person-a' }),
      media.saveUploadStream(held[2]!, { ownerPersonId: 'person-b' }),
      media.saveUploadStream(held[3]!, { ownerPersonId: 'person-c' }),
    ].map((p) => p.catch((e: unknown) => e));
    for (const s of held) s.write(jpegHead);
    const third = new PassThrough();
    await expect(media.saveUploadStream(third, { ownerPersonId: 'person-a' })).rejects.toMatchObject({ reason: 'busy' });
    await expect(media.saveUploadStream(third, { ownerPersonId: 'person-d' })).rejects.toMatchObject({ reason: 'busy' });
    // Over HTTP the same refusal is a 429 for a session at the photo step.
    const web = await atPhotoStep(t);
    expect((await web.postPhoto(await exifJpeg(), 'image/jpeg')).status).toBe(429);
    for (const s of held) s.end();
    for (const outcome of await Promise.all(running)) expect(outcome).toBeInstanceOf(PhotoRefused); // 12 bytes are no image
    // Slots are free again.
    expect((await web.postPhoto(await exifJpeg(), 'image/jpeg')).status).toBe(200);
  }, 60_000);

  it('that no report uses are swept after the grace period; a draft\'s and a case\'s photos stay', async () => {
    const t = await app();
    const abandoned = await atPhotoStep(t);
    expect((await abandoned.postPhoto(await exifJpeg(), 'image/jpeg')).status).toBe(200);
    const drafting = await atPhotoStep(t);
    expect((await drafting.postPhoto(await exifJpeg(200, 100), 'image/jpeg')).status).toBe(200);
    const reporting = await atPhotoStep(t);
    expect((await reporting.postPhoto(await exifJpeg(100, 50), 'image/jpeg')).status).toBe(200);
    let r = (await reporting.fetchNew()).messages;
    r = await reporting.pick(r, 'Bỏ qua');
    r = await reporting.pick(r, 'Ẩn danh');
    r = await reporting.pick(r, 'Gửi phản ánh');
    expect(texts(r)).toMatch(/Đã gửi phản ánh/);
    await abandoned.say('/cancel');
    expect(await t.app.db.media.count()).toBe(3);
    expect(storedFiles(t)).toHaveLength(3);

    expect(await t.app.services.media.sweepOrphans()).toBe(0); // all younger than 24 hours
    expect(await t.app.services.media.sweepOrphans(0)).toBe(1);
    const left = await t.app.db.media.findMany({ select: { id: true, path: true } });
    expect(left).toHaveLength(2);
    expect(storedFiles(t).sort()).toEqual(left.map((m) => m.path).sort());
    const c = await t.app.db.case.findFirstOrThrow();
    expect(left.map((m) => m.id)).toContain(c.photoMediaId);
  }, 90_000);

  it('rows stored by an older version (bytes in the database) are re-encoded into a file when first read', async () => {
    const t = await app();
    const id = 'L'.repeat(32);
    await t.app.db.media.create({ data: { id, mime: 'image/jpeg', bytes: new Uint8Array(await exifJpeg()) } });
    const served = await mediaBytes(t, await signedMedia(t, id));
    expect(served.status).toBe(200);
    expect(metadataLeaks(served.bytes)).toEqual([]);
    const row = await t.app.db.media.findUniqueOrThrow({ where: { id } });
    expect(row.bytes).toBeNull();
    expect(row.path).toMatch(/^[a-f0-9]{32}\.jpg$/);
  }, 60_000);
});
