/** Photos for report tests: distinct bytes, a stand-in for Zalo's CDN, and reading back what was stored or uploaded. */
import { createServer } from 'node:http';
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
