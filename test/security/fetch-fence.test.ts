/**
 * Photo downloads from the platforms are fenced (security review M2): https to allowed hosts
 * only, no private/loopback/link-local addresses, no redirects, a streamed byte limit, and
 * only JPEG/PNG/WebP by magic bytes (SVG and anything else refused). The configured API
 * root's own host is the one exception (local Bot API servers, the test fakes on 127.0.0.1).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fencedGet, isForbiddenAddress, hostAllowed } from '../../src/media/fenced-fetch.js';
import { PhotoRefused } from '../../src/core/ports/photo-source.js';
import { parseConfig } from '../../src/config.js';
import { onboardZalo } from '../helpers/onboarding.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { distinctJpeg } from '../helpers/photos.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_fence';
const MB = 1024 * 1024;
const WAIT = 20_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A small server on 127.0.0.1 answering with `handler`; counts requests and bytes written. */
async function server(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const stats = { hits: 0, paths: [] as string[] };
  const s = createServer((req, res) => {
    stats.hits++;
    stats.paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve()))));
  return { origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, stats };
}

async function refusal(promise: Promise<unknown>): Promise<PhotoRefused> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the fetch must be refused').toBeInstanceOf(PhotoRefused);
  return error as PhotoRefused;
}

const fence = { allowHosts: ['api.telegram.org', 'zdn.vn', 'zadn.vn', 'zalo.me'], maxBytes: 10 * MB };

describe('the photo fetch fence', () => {
  it('defaults to the platforms\' hosts; PHOTO_FETCH_HOSTS replaces them and bad values stop the start', () => {
    expect(parseConfig({}).media.fetchHosts).toEqual(['api.telegram.org', 'zdn.vn', 'zadn.vn', 'zalo.me']);
    expect(parseConfig({ PHOTO_FETCH_HOSTS: 'cdn.example.vn, *.zdn.vn' }).media.fetchHosts).toEqual(['cdn.example.vn', 'zdn.vn']);
    expect(() => parseConfig({ PHOTO_FETCH_HOSTS: 'https://x.vn/path' })).toThrow(/PHOTO_FETCH_HOSTS/);
    expect(hostAllowed('s120-ava-talk.zadn.vn', fence.allowHosts)).toBe(true);
    expect(hostAllowed('zdn.vn', fence.allowHosts)).toBe(true);
    expect(hostAllowed('evilzdn.vn', fence.allowHosts)).toBe(false);
    expect(hostAllowed('zdn.vn.evil.com', fence.allowHosts)).toBe(false);
  });

  it('refuses plain http, hosts off the list and credentials, before connecting', async () => {
    const target = await server((_req, res) => res.end('x'));
    const port = new URL(target.origin).port;
    expect((await refusal(fencedGet(`http://photo.zdn.vn/a.jpg`, fence))).message).toMatch(/not https/);
    expect((await refusal(fencedGet(`https://evil.example.com/a.jpg`, fence))).message).toMatch(/not on PHOTO_FETCH_HOSTS/);
    expect((await refusal(fencedGet(`https://user:pw@photo.zdn.vn/a.jpg`, fence))).message).toMatch(/credentials/);
    // The review's reproduction: an internal URL of the service itself (by another name than the API root's).
    expect((await refusal(fencedGet(`http://localhost:${port}/healthz`, { ...fence, apiRoot: target.origin }))).message).toMatch(/not https/);
    expect(target.stats.hits).toBe(0);
  });

  it('refuses loopback, private, link-local and mapped addresses, also when an allowed name resolves to them', async () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.9', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
    for (const address of ['149.154.167.220', '8.8.8.8', '2001:4860:4860::8888', '::ffff:8.8.8.8']) expect(isForbiddenAddress(address), address).toBe(false);
    // Literal addresses on the list are still refused.
    const literal = { ...fence, allowHosts: [...fence.allowHosts, '169.254.169.254', '127.0.0.1'] };
    expect((await refusal(fencedGet('https://169.254.169.254/latest/meta-data/', literal))).message).toMatch(/private or reserved/);
    expect((await refusal(fencedGet('https://127.0.0.1/x.jpg', literal))).message).toMatch(/private or reserved/);
    // A name on the list that resolves to loopback (DNS rebinding, a hostile record) is refused at connect time.
    const named = { ...fence, allowHosts: ['localhost'] };
    expect((await refusal(fencedGet('https://localhost:9/x.jpg', named))).message).toMatch(/private or reserved/);
  });

  it('refuses redirects without following them, even from the API root\'s host', async () => {
    const inner = await server((_req, res) => res.end('internal secret'));
    const redirecting = await server((_req, res) => {
      res.writeHead(302, { location: `${inner.origin}/secret` });
      res.end();
    });
    const error = await refusal(fencedGet(`${redirecting.origin}/photo.jpg`, { ...fence, apiRoot: redirecting.origin }));
    expect(error.message).toMatch(/redirect refused \(302\)/);
    expect(inner.stats.hits).toBe(0);
  });

  it('stops reading past the byte limit (announced or streamed) instead of buffering', async () => {
    let written = 0;
    let finished = false;
    const endless = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }); // chunked: no length announced
      const chunk = Buffer.alloc(64 * 1024, 0xab);
      const pump = () => {
        while (written < 50 * MB) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        finished = true;
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const body = await fencedGet(`${endless.origin}/big.jpg`, { ...fence, apiRoot: endless.origin, maxBytes: 1 * MB });
    let received = 0;
    const error = await new Promise<unknown>((resolve) => {
      body.on('data', (c: Buffer) => (received += c.length));
      body.on('error', resolve);
      body.on('end', () => resolve(undefined));
    });
    expect(error).toBeInstanceOf(PhotoRefused);
    expect((error as PhotoRefused).reason).toBe('too_large');
    expect(received).toBeLessThanOrEqual(1 * MB);
    expect(finished).toBe(false); // the server was cut off long before its 50 MB

    const announced = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(20 * MB) });
      res.write(Buffer.alloc(1024));
    });
    expect((await refusal(fencedGet(`${announced.origin}/big.jpg`, { ...fence, apiRoot: announced.origin }))).reason).toBe('too_large');
  });

  it('through Zalo: an internal URL, an SVG, an HTML page and a redirect are refused and nothing is stored; a real JPEG from the CDN is kept', async () => {
    const { zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>');
    const hostile = await server((req, res) => {
      if (req.url === '/a.svg') return res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(svg);
      if (req.url === '/page.jpg') return res.writeHead(200, { 'content-type': 'image/jpeg' }).end('<html><body>hi</body></html>');
      if (req.url === '/moved.jpg') return res.writeHead(301, { location: `${t.baseUrl}/healthz` }).end();
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(distinctJpeg('fence-ok'));
    });
    const rep = await onboardZalo(zalo, 'zalo-fence-rep', 'Người Thử', { wait: WAIT });
    await rep.type('/report', /Có ai đang gặp nguy hiểm/);
    await rep.choose('Không', /Sự việc thuộc loại nào/);
    await rep.choose('Trộm cắp', /Mời bạn kể lại/);
    await rep.type('Có người lạ đi vào các nhà trong ngõ', /ảnh chụp/);
    const failed = /Không lưu được ảnh/;
    // The review's reproduction: the service's own /healthz (same host as the API root, so only the magic bytes stop it).
    await rep.photo(`${t.baseUrl}/healthz`, failed);
    await rep.photo(`http://localhost:${new URL(t.baseUrl).port}/healthz`, failed);
    await rep.photo(`${hostile.origin}/a.svg`, failed);
    await rep.photo(`${hostile.origin}/page.jpg`, failed);
    await rep.photo(`${hostile.origin}/moved.jpg`, failed);
    await rep.photo('https://169.254.169.254/latest/meta-data/iam', failed);
    expect(await t.app.db.media.count()).toBe(0);
    await rep.photo(`${hostile.origin}/ok.jpg`, /Đã nhận ảnh/);
    const stored = await t.app.db.media.findMany();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ mime: 'image/jpeg', bytes: null });
    expect(hostile.stats.paths).toEqual(['/a.svg', '/page.jpg', '/moved.jpg', '/ok.jpg']);
  }, 90_000);
});
