/**
 * An anonymous reporter's photo cannot identify them (security review H2). A web reporter files
 * an ANONYMOUS report with a JPEG carrying EXIF GPS, Make, Model, the owner's name and an XMP
 * packet. No byte of those reaches any handler on any channel (Telegram upload bytes, the
 * Zalo photo link as Zalo would fetch it, the web deputy's link), nor anyone without a valid
 * link (none, forged, expired), nor anyone after the reporter's erasure. Media answers cannot
 * run as pages (nosniff, sandbox CSP, fixed file name, not cached).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startFakeZalo } from '../fakes/fake-zalo-server.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { onboardTelegram, onboardWeb, onboardWebInboxUser, onboardZalo } from '../helpers/onboarding.js';
import { findChoice, texts, type WebClient, type WebReply } from '../helpers/web-client.js';
import { refOf } from '../helpers/cases.js';
import { EXIF_SECRETS, exifJpeg, mediaBytes, metadataLeaks, signedMedia, uploadedBytes } from '../helpers/photos.js';
import type { Clock } from '../../src/core/ports/clock.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_photos_exif';
const PUBLIC_URL = 'https://bot.example.org';
const ZALO_SECRET = 'zalo-webhook-secret_photos_0123';
const WAIT = 20_000;
const SECRETS = Object.values(EXIF_SECRETS);

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A clock the test can move forward (links expire after 15 minutes). */
function movableClock(): Clock & { skip(ms: number): void } {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), skip: (ms) => (offset += ms) };
}

/** An anonymous fire report with the EXIF photo, from the web chat; returns its reference. */
async function anonymousReportWithPhoto(web: WebClient, description: string): Promise<string> {
  let r = await web.say('/report');
  r = await web.pick(r, 'Không');
  r = await web.pick(r, 'Cháy');
  r = await web.say(description);
  expect(texts(r)).toMatch(/Bạn có ảnh chụp sự việc không/);
  const res = await web.postPhoto(await exifJpeg(), 'image/jpeg');
  expect(res.status).toBe(200);
  r = (await web.fetchNew()).messages;
  expect(texts(r)).toMatch(/Đã nhận ảnh/);
  r = await web.pick(r, 'Bỏ qua');
  r = await web.pick(r, 'Ẩn danh');
  // The reporter's own preview shows the photo through a signed link: clean as well.
  const preview = r.find((m) => m.photo?.url);
  expect(preview?.photo?.url).toMatch(/^\/media\/[A-Za-z0-9_-]{32}\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
  return refOf(texts(await web.pick(r, 'Gửi phản ánh')));
}

/** Fetches a link as the browser or Zalo would; checks the answer can never run as a page. */
async function fetchPhoto(t: TestApp, link: string): Promise<Buffer> {
  const res = await fetch(`${t.baseUrl}${link}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/jpeg');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
  expect(res.headers.get('content-disposition')).toBe('inline; filename="photo.jpg"');
  expect(res.headers.get('cache-control')).toBe('private, no-store');
  return Buffer.from(await res.arrayBuffer());
}

function leaksIn(what: string, text: string): string[] {
  return SECRETS.filter((s) => text.includes(s)).map((s) => `${what}: ${s}`);
}

describe('photos of anonymous reports', () => {
  it('reach the Telegram leader and the web deputy without metadata; links are signed, expire, and die with erasure', async () => {
    const clock = movableClock();
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups, { clock });
    const leader = await onboardTelegram(tg, 5_550_301, { firstName: 'Tổ trưởng' }, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '5550301')).id, 'HN-GV-01');
    const deputy = await onboardWebInboxUser(t, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, 'HN-GV-01', 'deputy');
    const officer = await onboardZalo(zalo, 'zalo-officer-exif', 'Cán bộ Phường', { wait: WAIT });
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-exif')).id, 'HN-GV');

    const reporter = await onboardWeb(t.baseUrl, 'KMA234');
    const refOpen = await anonymousReportWithPhoto(reporter, 'Khói đen bốc ra từ kho gas cuối ngõ 12');
    const refClosed = await anonymousReportWithPhoto(reporter, 'Chập điện ở cột điện đầu ngõ 12');
    const open = await t.app.db.case.findUniqueOrThrow({ where: { ref: refOpen } });
    const closed = await t.app.db.case.findUniqueOrThrow({ where: { ref: refClosed } });
    expect(open.anonymous).toBe(true);

    // Telegram: the bytes Telegram received are the re-encoded photo.
    const toLeader = await leader.waitFor(new RegExp(`Phản ánh mới ${refOpen}`));
    expect(toLeader.method).toBe('sendPhoto');
    const uploaded = await uploadedBytes(tg, toLeader);
    expect(uploaded.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);
    expect(metadataLeaks(uploaded)).toEqual([]);

    // Web deputy: the page gets a signed link when it reads its messages; the stored row has none.
    await deputy.waitFor(new RegExp(`Phản ánh mới ${refOpen}`));
    const deputyMessages: WebReply[] = [];
    for (const m of (await deputy.client.fetchNew()).messages) deputyMessages.push(m);
    const withPhoto = deputyMessages.find((m) => m.text.includes(`Phản ánh mới ${refOpen}`));
    const link = withPhoto!.photo!.url!;
    expect(link).toMatch(new RegExp(`^/media/${open.photoMediaId}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    expect(metadataLeaks(await fetchPhoto(t, link))).toEqual([]);

    // Zalo officer without PUBLIC_URL: told a photo exists, given no link and no bytes.
    const toOfficer = await zalo.waitFor((c) => c.body.chat_id === officer.id && String(c.body.text ?? '').includes(`Phản ánh mới ${refOpen}`), WAIT);
    expect(String(toOfficer.body.text)).not.toMatch(/\/media\//);

    // Nobody without a valid link: no signature, a forged one, another photo's, the wrong expiry, an expired one.
    const [, query] = link.split('?');
    const params = new URLSearchParams(query);
    const otherLink = await signedMedia(t, closed.photoMediaId!);
    expect((await mediaBytes(t, `/media/${open.photoMediaId}`)).status).toBe(404);
    expect((await mediaBytes(t, `/media/${open.photoMediaId}?exp=${params.get('exp')}&sig=${'A'.repeat(43)}`)).status).toBe(404);
    expect((await mediaBytes(t, `/media/${open.photoMediaId}?${otherLink.split('?')[1]}`)).status).toBe(404);
    expect((await mediaBytes(t, `/media/${open.photoMediaId}?exp=${Number(params.get('exp')) + 1000}&sig=${params.get('sig')}`)).status).toBe(404);
    const notFound = await fetch(`${t.baseUrl}/media/${open.photoMediaId}`);
    expect(notFound.headers.get('x-content-type-options')).toBe('nosniff');
    clock.skip(16 * 60_000);
    expect((await mediaBytes(t, link)).status).toBe(404);
    const fresh = await signedMedia(t, open.photoMediaId!);
    expect(metadataLeaks(await fetchPhoto(t, fresh))).toEqual([]);

    // Every message any handler got, on every channel, and the web inboxes: not one of the strings.
    const leaks = [
      ...tg.calls.flatMap((c) => leaksIn(`telegram ${c.method}`, JSON.stringify(c.body))),
      ...zalo.sent.flatMap((c) => leaksIn(`zalo ${c.method}`, JSON.stringify(c.body))),
      ...(await t.app.db.webMessage.findMany()).flatMap((m) => leaksIn('web inbox', m.payload)),
      ...(await t.app.db.delivery.findMany()).flatMap((d) => leaksIn('outbox', d.payload)),
    ];
    expect(leaks).toEqual([]);

    // Erasure: the photo of the closed case is deleted; the open case keeps its (clean) photo,
    // no longer tied to the reporter, and every link handed out before stops working.
    await t.app.db.case.update({ where: { id: closed.id }, data: { status: 'resolved' } });
    const before = await signedMedia(t, open.photoMediaId!);
    const closedLink = await signedMedia(t, closed.photoMediaId!);
    expect((await mediaBytes(t, before)).status).toBe(200);
    let r = await reporter.say('/delete_me');
    // (The erased session cannot read the answer any more: the erasure is checked in the database.)
    const reporterId = (await personOf(t.app, 'web', reporter.session)).id;
    expect((await reporter.post({ choice: findChoice(r, 'Xóa tất cả dữ liệu của tôi').id })).status).toBe(200);
    expect(await t.app.db.person.findUnique({ where: { id: reporterId } })).toBeNull();
    expect((await mediaBytes(t, before)).status).toBe(404);
    expect((await mediaBytes(t, closedLink)).status).toBe(404);
    expect(await t.app.db.media.findUnique({ where: { id: closed.photoMediaId! } })).toBeNull();
    expect((await t.app.db.case.findUniqueOrThrow({ where: { id: closed.id } })).photoMediaId).toBeNull();
    const kept = await t.app.db.media.findUniqueOrThrow({ where: { id: open.photoMediaId! } });
    expect(kept.ownerPersonId).toBeNull();
    // The handlers of the open case still see it, through a link minted now.
    expect(metadataLeaks(await fetchPhoto(t, await signedMedia(t, open.photoMediaId!)))).toEqual([]);
  }, 180_000);

  it('reach a Zalo officer (PUBLIC_URL) as a short-lived signed link serving the clean photo, never a lasting link in the text', async () => {
    const zalo = await startFakeZalo();
    cleanups.push(() => zalo.close());
    const t = await startTestApp({ env: { ZALO_BOT_TOKEN: zalo.token, ZALO_API_ROOT: zalo.apiRoot, PUBLIC_URL, ZALO_WEBHOOK_SECRET: ZALO_SECRET } });
    cleanups.push(() => t.dispose());
    const hook = { url: `${t.baseUrl}/webhooks/zalo`, secret: ZALO_SECRET };
    const officer = await onboardZalo(zalo, 'zalo-officer-exif-2', 'Cán bộ Phường', { webhook: hook });
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-exif-2')).id, 'HN-GV');

    const reporter = await onboardWeb(t.baseUrl, 'KMA234');
    const ref = await anonymousReportWithPhoto(reporter, 'Có khói và mùi khét từ nhà kho');
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });

    const toOfficer = await zalo.waitFor((s) => s.method === 'sendPhoto' && s.body.chat_id === officer.id, WAIT);
    const photoUrl = String(toOfficer.body.photo);
    expect(photoUrl).toMatch(new RegExp(`^${PUBLIC_URL}/media/${c.photoMediaId}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    expect(String(toOfficer.body.caption ?? '')).not.toMatch(/\/media\//);
    // What Zalo fetches from PUBLIC_URL: the clean photo.
    const bytes = await fetchPhoto(t, photoUrl.slice(PUBLIC_URL.length));
    expect(metadataLeaks(bytes)).toEqual([]);
    expect(zalo.sent.flatMap((s) => leaksIn(`zalo ${s.method}`, JSON.stringify(s.body)))).toEqual([]);
    expect((await mediaBytes(t, `/media/${c.photoMediaId}`)).status).toBe(404);
    expect(zalo.refusals).toEqual([]);
  }, 120_000);
});
