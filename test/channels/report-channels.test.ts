/**
 * The guided report end to end on Telegram (buttons and numbers, a shared location, a photo
 * by file id) and on Zalo (numbers only, a photo by URL, a place typed in words), against the
 * fake platforms: emergency numbers first, refusals, preview edits, the reference code, who
 * gets it, the photo on every handler channel, a draft kept across /menu and a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeZalo } from '../fakes/fake-zalo-server.js';
import { TINY_JPEG } from '../fakes/fake-telegram-server.js';
import { startTestApp } from '../helpers/test-app.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { keyboardOf, tgText } from '../helpers/telegram-user.js';
import { zaloText } from '../helpers/zalo-user.js';
import { onboardTelegram, onboardWebInboxUser, onboardZalo } from '../helpers/onboarding.js';
import { startAppOnFakes, startFakes, startWorld, tempDirRemovedAfter, type Cleanups } from '../helpers/world.js';
import { distinctJpeg, mediaBytes, signedMedia, startPhotoServer, storedBytes } from '../helpers/photos.js';
import sharp from 'sharp';
import { refOf } from '../helpers/cases.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_report_flow';
const PUBLIC_URL = 'https://bot.example.org';
const ZALO_SECRET = 'zalo-webhook-secret_report_0123';
const WAIT = 15_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('report flow on Telegram', () => {
  it('emergency numbers first, refusals, photo by file id, shared location, preview edit, confirm by number; the photo reaches every handler channel', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const leader = await onboardTelegram(tg, 6_100_001, { firstName: 'Tổ trưởng' });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '6100001')).id, 'HN-GV-01');
    const deputy = await onboardWebInboxUser(t);
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, 'HN-GV-01', 'deputy');
    const officer = await onboardZalo(zalo, 'zalo-officer-61', 'Cán bộ Phường');
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-61')).id, 'HN-GV');
    const rep = await onboardTelegram(tg, 6_100_002, { firstName: 'Hà' });

    // The emergency question comes first, before anything else.
    let turn = await rep.command('/report');
    expect(turn.calls).toHaveLength(1);
    expect(turn.text).toMatch(/^Có ai đang gặp nguy hiểm ngay lúc này không\?$/);
    expect(rep.buttons('nguy hiểm').map((b) => b.text)).toEqual(['🚨 Có, đang nguy hiểm', 'Không']);

    // "Danger now": 113/114/115 at once, in their own message, before the next question.
    turn = await rep.press('Có, đang nguy hiểm');
    expect(turn.calls.map((c) => c.method)).toEqual(['sendMessage', 'sendMessage']);
    expect(tgText(turn.calls[0]!)).toMatch(/113 — Công an\n• 114 — Cứu hỏa, cứu nạn\n• 115 — Cấp cứu\n• 112 — Tìm kiếm cứu nạn\n/);
    expect(tgText(turn.calls[1]!)).toMatch(/^Sự việc thuộc loại nào\?/);

    // Category by typing its number.
    turn = await rep.typeNumberOf('Cháy, nổ');
    expect(turn.text).toMatch(/Mời bạn kể lại sự việc.*tối đa 2000 ký tự/);

    // Empty and too long descriptions are refused in Vietnamese and the question is asked again.
    turn = await rep.type('   ');
    expect(turn.text).toMatch(/Tin nhắn đang trống\. Mời bạn gõ nội dung\.\n---\nMời bạn kể lại sự việc/);
    turn = await rep.type('x'.repeat(2001));
    expect(turn.text).toMatch(/Tin nhắn quá dài \(2001 ký tự\)\. Vui lòng viết gọn lại, tối đa 2000 ký tự\.\n---\nMời bạn kể lại sự việc/);
    turn = await rep.type('Khói bốc lên từ tầng 2 nhà số 9');
    expect(turn.text).toMatch(/Bạn có ảnh chụp sự việc không/);

    // A photo by file id: the service downloads it through getFile.
    turn = await rep.photo('AgACAgIAAxkBAAIreportphoto');
    expect(turn.text).toMatch(/Đã nhận ảnh\.\n---\nSự việc xảy ra ở đâu\?/);
    expect(tg.calls.some((c) => c.method === 'getFile' && c.body.file_id === 'AgACAgIAAxkBAAIreportphoto')).toBe(true);

    // A shared location.
    turn = await rep.location(21.0312, 105.8201);
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await rep.press('Ẩn danh');
    // The preview carries the photo, with the text as its caption and the buttons.
    expect(turn.calls.map((c) => c.method)).toEqual(['sendPhoto']);
    expect(turn.text).toMatch(/^Xem lại phản ánh:\n• Loại: 🔥 Cháy, nổ\n• Khu dân cư: Tổ dân phố số 1 \(Phường Giảng Võ\)\n• Mô tả: Khói bốc lên từ tầng 2 nhà số 9\n• Ảnh: có\n• Vị trí: vị trí đã gửi \(21\.03120, 105\.82010\)\n• Danh tính: ẩn danh\n• 🚨 Đang có nguy hiểm$/);

    // Edit the description from the preview: back to the preview with the new text.
    turn = await rep.press('Sửa mô tả');
    expect(turn.text).toMatch(/Mời bạn kể lại sự việc/);
    turn = await rep.type('Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét');
    expect(turn.text).toMatch(/• Mô tả: Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét\n/);
    expect(turn.text).not.toMatch(/Khói bốc lên/);

    // Confirm by number.
    turn = await rep.typeNumberOf('Gửi phản ánh');
    expect(turn.text).toMatch(/✅ Đã gửi phản ánh\. Mã phản ánh: PA-\w+ \(ghi lại để tra cứu\)\nTổ trưởng, tổ phó Tổ dân phố số 1 và Công an phường Giảng Võ sẽ tiếp nhận và xử lý\./);
    const ref = refOf(turn.text);

    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    expect(c).toMatchObject({ category: 'fire', urgent: true, anonymous: true, latitude: 21.0312, longitude: 105.8201, placeText: null, description: 'Cháy bếp tầng 2 nhà số 9, khói đen và mùi khét' });
    expect(c.photoMediaId).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Telegram leader: the photo uploaded, the case as caption, an Open button.
    const toLeader = await leader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toLeader.method).toBe('sendPhoto');
    // The photo is re-encoded without metadata before anyone sees it: what Telegram gets is the stored copy.
    expect(toLeader.body.photo).toEqual({ filename: 'photo.jpg', size: (await storedBytes(t, c.photoMediaId!)).length });
    expect(tgText(toLeader)).toMatch(/🔥 Cháy, nổ 🚨 KHẨN/);
    expect(tgText(toLeader)).toMatch(/Người phản ánh: ẩn danh #[A-HJ-KMNP-Z2-9]{4}/);
    expect(tgText(toLeader)).toMatch(/Vị trí: 21\.03120, 105\.82010/);
    expect(tgText(toLeader)).toMatch(/Bản đồ: https:\/\/maps\.google\.com\/\?q=21\.03120,105\.82010/); // a map link for handlers
    expect(keyboardOf(toLeader)).toEqual([{ text: `Xem ${ref}`, callback_data: `c:${c.id}:open` }]);

    // Web deputy: the photo from this server's /media path.
    const toDeputy = await deputy.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toDeputy.photo?.url).toBe(`/media/${c.photoMediaId}`);
    // The stored path alone opens nothing; the page gets a 15-minute signed link when it reads its messages.
    expect((await mediaBytes(t, toDeputy.photo!.url!)).status).toBe(404);
    const served = await mediaBytes(t, await signedMedia(t, c.photoMediaId!));
    expect(served.status).toBe(200);
    expect(served.type).toBe('image/jpeg');
    expect(served.bytes.equals(await storedBytes(t, c.photoMediaId!))).toBe(true);
    expect((await sharp(served.bytes).metadata()).width).toBe((await sharp(TINY_JPEG).metadata()).width);

    // Zalo officer (urgent, so the ward police at once), no PUBLIC_URL: told the photo is on the web.
    const toOfficer = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toOfficer.method).toBe('sendMessage');
    expect(zaloText(toOfficer)).toMatch(/\(Có ảnh đính kèm: mở trang web chat của hệ thống để xem; hỏi quản trị viên địa chỉ trang\)/);
    expect(zalo.sent.some((s) => s.method === 'sendPhoto')).toBe(false);

    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});

describe('report flow on Zalo', () => {
  it('numbers only, in English: emergency numbers first, refusals, photo by URL, typed place, named, preview edit; the photo reaches Telegram as an upload', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const jpeg = distinctJpeg('zalo-report-photo');
    const cdn = await startPhotoServer(jpeg, cleanups);
    const leader = await onboardTelegram(tg, 6_200_001);
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '6200001')).id, 'HN-GV-01');
    const deputy = await onboardWebInboxUser(t);
    await makeLeader(t.app, (await personOf(t.app, 'web', deputy.session)).id, 'HN-GV-01', 'deputy');
    const officer = await onboardZalo(zalo, 'zalo-officer-62', 'Cán bộ Phường');
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-62')).id, 'HN-GV');
    const rep = await onboardZalo(zalo, 'zalo-resident-62', 'Trần Thị Bình', { locale: 'en' });

    let turn = await rep.type('/report');
    expect(turn.calls).toHaveLength(1);
    expect(turn.text).toBe('Is anyone in danger right now?\n\nReply by typing a number (for example: 1):\n1. 🚨 Yes, danger now\n2. No');

    turn = await rep.type('1');
    expect(turn.calls).toHaveLength(2);
    expect(zaloText(turn.calls[0]!)).toMatch(/^🚨 Call now:\n• 113 — Police\n• 114 — Fire and rescue\n• 115 — Ambulance\n• 112 — Search and rescue\n/);
    expect(zaloText(turn.calls[1]!)).toMatch(/^What kind of incident is it\?/);

    turn = await rep.choose('Theft');
    expect(turn.text).toMatch(/Please tell what happened: what, when, who was involved \(at most 2000 characters\)\. The place comes in the next step\./);

    turn = await rep.type('   ');
    expect(turn.text).toMatch(/^The message is empty\. Please type something\.\n---\nPlease tell what happened/);
    turn = await rep.type('y'.repeat(2001));
    expect(turn.text).toMatch(/^That message is too long \(2001 characters\)\. Please shorten it to at most 2000 characters\.\n---\nPlease tell what happened/);
    turn = await rep.type('A man is trying car door handles along lane 5');
    expect(turn.text).toMatch(/Do you have a photo of it\?/);

    turn = await rep.photo(cdn.url);
    expect(turn.text).toMatch(/^Photo received\.\n---\nWhere did it happen\?/);
    expect(cdn.hits()).toBe(1);

    turn = await rep.type('Lane 5, Núi Trúc street, next to the pharmacy');
    expect(turn.text).toMatch(/anonymously or with your name/);
    turn = await rep.choose('With my name');
    expect(turn.text).toMatch(
      /^Please check your report:\n• Kind: 🛡 Theft, fights, crime\n• Residential group: Tổ dân phố số 1 \(Phường Giảng Võ\)\n• Description: A man is trying car door handles along lane 5\n• Photo: yes\n• Location: Lane 5, Núi Trúc street, next to the pharmacy\n• Identity: with your name \(Trần Thị Bình\)\n• 🚨 Danger now/,
    );
    expect(turn.calls.map((c) => c.method)).toEqual(['sendMessage']); // no public URL: Zalo cannot show our stored copy

    turn = await rep.choose('Edit description');
    expect(turn.text).toMatch(/Please tell what happened/);
    turn = await rep.type('A man in a grey jacket is trying car door handles along lane 5');
    expect(turn.text).toMatch(/• Description: A man in a grey jacket is trying car door handles along lane 5\n/);

    turn = await rep.choose('Send report');
    expect(turn.text).toMatch(/✅ Report sent\. Report reference: PA-\w+ \(keep it to look it up\)\nThe leaders of Tổ dân phố số 1 and Công an phường Giảng Võ will take it up\./);
    const ref = refOf(turn.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    expect(c).toMatchObject({ category: 'security', urgent: true, anonymous: false, latitude: null, longitude: null, placeText: 'Lane 5, Núi Trúc street, next to the pharmacy' });

    // The named reporter's display name is shown to handlers; the photo crosses to Telegram as an upload.
    const toLeader = await leader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(toLeader.method).toBe('sendPhoto');
    expect(toLeader.body.photo).toEqual({ filename: 'photo.jpg', size: (await storedBytes(t, c.photoMediaId!)).length });
    expect(tgText(toLeader)).toMatch(/Người phản ánh: Trần Thị Bình/);
    expect(tgText(toLeader)).toMatch(/Nơi xảy ra: Lane 5, Núi Trúc street/);
    const toDeputy = await deputy.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect((await mediaBytes(t, await signedMedia(t, c.photoMediaId!))).bytes.equals(await storedBytes(t, c.photoMediaId!))).toBe(true);
    const toOfficer = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(zaloText(toOfficer)).toMatch(/Người phản ánh: Trần Thị Bình/);
    expect(zaloText(toOfficer)).toMatch(/Có ảnh đính kèm: mở trang web/);

    for (const call of zalo.sent) expect(zaloText(call).length).toBeLessThanOrEqual(2000);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);

  it('with PUBLIC_URL a Zalo handler gets the photo by sendPhoto from /media/<token>, which the service serves', async () => {
    const zalo = await startFakeZalo();
    cleanups.push(() => zalo.close());
    const t = await startTestApp({ env: { ZALO_BOT_TOKEN: zalo.token, ZALO_API_ROOT: zalo.apiRoot, PUBLIC_URL, ZALO_WEBHOOK_SECRET: ZALO_SECRET } });
    cleanups.push(() => t.dispose());
    expect(t.app.zalo!.mode).toBe('webhook');
    const hook = { url: `${t.baseUrl}/webhooks/zalo`, secret: ZALO_SECRET };
    const jpeg = distinctJpeg('zalo-public-url-photo');
    const cdn = await startPhotoServer(jpeg, cleanups);

    const officer = await onboardZalo(zalo, 'zalo-officer-63', 'Cán bộ Phường', { webhook: hook });
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-63')).id, 'HN-GV');
    const rep = await onboardZalo(zalo, 'zalo-resident-63', 'Lê Văn Cường', { webhook: hook });

    await rep.type('/report', /Có ai đang gặp nguy hiểm/);
    await rep.choose('Không', /Sự việc thuộc loại nào/);
    await rep.choose('Trộm cắp', /Mời bạn kể lại/);
    await rep.type('Có người lạ cạy khóa xe máy trong ngõ 3', /ảnh chụp/);
    await rep.photo(cdn.url, /Sự việc xảy ra ở đâu/);
    await rep.type('bỏ qua', /ẩn danh hay kèm tên/); // beside a typed place, Skip is picked by its words
    await rep.choose('Ẩn danh', /Xem lại phản ánh/);
    const sent = await rep.choose('Gửi phản ánh', /Đã gửi phản ánh/);
    const ref = refOf(sent.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });

    const toOfficer = await zalo.waitFor((s) => s.method === 'sendPhoto' && s.body.chat_id === officer.id, WAIT);
    // A link signed for this delivery, valid 15 minutes.
    const photoUrl = String(toOfficer.body.photo);
    expect(photoUrl).toMatch(new RegExp(`^${PUBLIC_URL}/media/${c.photoMediaId}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    expect(zaloText(toOfficer)).toMatch(new RegExp(`Phản ánh mới ${ref}`));
    expect(zaloText(toOfficer)).not.toContain('/media/'); // no lasting link in the text

    // What Zalo would fetch from PUBLIC_URL is served by the service itself.
    const served = await mediaBytes(t, photoUrl.slice(PUBLIC_URL.length));
    expect(served.status).toBe(200);
    expect(served.type).toBe('image/jpeg');
    expect(served.bytes.equals(await storedBytes(t, c.photoMediaId!))).toBe(true);
    expect((await mediaBytes(t, `/media/${c.photoMediaId}`)).status).toBe(404);
    expect((await mediaBytes(t, `/media/${'x'.repeat(32)}`)).status).toBe(404);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});

describe('report drafts are not lost', () => {
  it('an interruption by /menu or /help is offered back by the menu button and by /resume, at the same step, on Telegram and Zalo', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const tgRep = await onboardTelegram(tg, 6_300_001);
    const zaloRep = await onboardZalo(zalo, 'zalo-resident-64', 'Phạm Thu Hằng');

    // Telegram: /menu in the photo step; the menu offers the draft back first.
    await tgRep.command('/report');
    await tgRep.press('Không');
    await tgRep.press('Giao thông');
    let turn: { text: string } = await tgRep.type('Đèn tín hiệu ngã tư hỏng từ sáng');
    expect(turn.text).toMatch(/ảnh chụp/);
    turn = await tgRep.command('/menu');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc\. Gõ \/resume để tiếp tục\./);
    expect(tgRep.buttons('Tiếp tục')[0]!.text).toBe('▶️ Tiếp tục phản ánh sự việc đang làm dở');
    turn = await tgRep.press('Tiếp tục phản ánh');
    expect(turn.text).toMatch(/^Bạn có ảnh chụp sự việc không/);
    turn = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc xảy ra ở đâu/);
    // /help in the location step, then /resume.
    turn = await tgRep.command('/help');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc/);
    turn = await tgRep.command('/resume');
    expect(turn.text).toMatch(/^Sự việc xảy ra ở đâu/);
    await tgRep.type('Ngã tư Kim Mã - Núi Trúc');
    turn = await tgRep.press('Ẩn danh');
    expect(turn.text).toMatch(/• Loại: 🚦 Giao thông\n.*\n• Mô tả: Đèn tín hiệu ngã tư hỏng từ sáng\n• Ảnh: không có\n• Vị trí: Ngã tư Kim Mã - Núi Trúc\n/);
    turn = await tgRep.press('Gửi phản ánh');
    const tgRef = refOf(turn.text);

    // Zalo: /menu in the photo step, then /resume by typing; skip typed as a word.
    await zaloRep.type('/report');
    await zaloRep.choose('Không');
    await zaloRep.choose('ồn ào');
    await zaloRep.type('Loa kẹo kéo hát đến 1 giờ sáng');
    turn = await zaloRep.type('/menu');
    expect(turn.text).toMatch(/Bạn đang làm dở: phản ánh sự việc\. Gõ \/resume để tiếp tục\./);
    expect(turn.text).toMatch(/\n1\. ▶️ Tiếp tục phản ánh sự việc đang làm dở\n/);
    turn = await zaloRep.type('/resume');
    expect(turn.text).toMatch(/^Bạn có ảnh chụp sự việc không/);
    turn = await zaloRep.choose('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc xảy ra ở đâu/);
    turn = await zaloRep.type('/menu');
    turn = await zaloRep.choose('Tiếp tục phản ánh'); // the menu item, by number
    expect(turn.text).toMatch(/^Sự việc xảy ra ở đâu/);
    turn = await zaloRep.type('bỏ qua');
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await zaloRep.choose('Kèm tên');
    expect(turn.text).toMatch(/• Mô tả: Loa kẹo kéo hát đến 1 giờ sáng\n• Ảnh: không có\n• Vị trí: không có\n• Danh tính: kèm tên \(Phạm Thu Hằng\)/);
    turn = await zaloRep.choose('Gửi phản ánh');
    expect(turn.text).toMatch(/Tổ trưởng và tổ phó Tổ dân phố số 1 sẽ tiếp nhận/);
    const zaloRef = refOf(turn.text);

    const cases = await t.app.db.case.findMany({ orderBy: { createdAt: 'asc' } });
    expect(cases.map((c) => [c.ref, c.category, c.description])).toEqual([
      [tgRef, 'traffic', 'Đèn tín hiệu ngã tư hỏng từ sáng'],
      [zaloRef, 'order', 'Loa kẹo kéo hát đến 1 giờ sáng'],
    ]);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);

  it('a restart mid-draft resumes at the stored step on Telegram (old button) and Zalo (number from the old list)', async () => {
    const fakes = await startFakes(TELEGRAM_TOKEN, cleanups);
    const { tg, zalo } = fakes;
    const dir = tempDirRemovedAfter(cleanups);
    const first = await startAppOnFakes(fakes, cleanups, { dir });
    const tgRep = await onboardTelegram(tg, 6_400_001);
    const zaloRep = await onboardZalo(zalo, 'zalo-resident-65', 'Đỗ Minh Khang');

    await tgRep.command('/report');
    await tgRep.press('Không');
    await tgRep.typeNumberOf('Đường sá');
    await tgRep.type('Cống bị tắc, nước tràn ra đường');
    let turn: { text: string } = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/Sự việc xảy ra ở đâu/);

    await zaloRep.type('/report');
    await zaloRep.choose('Không');
    await zaloRep.choose('Việc khác');
    turn = await zaloRep.type('Cây đổ chắn lối vào chợ');
    expect(turn.text).toMatch(/ảnh chụp/);

    await first.stop();
    const second = await startAppOnFakes(fakes, cleanups, { dir });

    // Telegram: the Skip button on the location question sent before the restart.
    turn = await tgRep.press('Bỏ qua');
    expect(turn.text).toMatch(/ẩn danh hay kèm tên/);
    turn = await tgRep.press('Ẩn danh');
    expect(turn.text).toMatch(/• Loại: 🏗 Đường sá, điện, cống, rác, môi trường\n.*\n• Mô tả: Cống bị tắc, nước tràn ra đường\n/);
    turn = await tgRep.typeNumberOf('Gửi phản ánh');
    const tgRef = refOf(turn.text);

    // Zalo: "1" still means Skip from the photo question asked before the restart.
    turn = await zaloRep.type('1');
    expect(turn.text).toMatch(/^Sự việc xảy ra ở đâu/);
    await zaloRep.type('Cổng chợ Kim Mã');
    await zaloRep.choose('Ẩn danh');
    turn = await zaloRep.choose('Gửi phản ánh');
    const zaloRef = refOf(turn.text);

    const cases = await second.app.db.case.findMany({ orderBy: { createdAt: 'asc' } });
    expect(cases.map((c) => [c.ref, c.category, c.description, c.placeText])).toEqual([
      [tgRef, 'infrastructure', 'Cống bị tắc, nước tràn ra đường', null],
      [zaloRef, 'other', 'Cây đổ chắn lối vào chợ', 'Cổng chợ Kim Mã'],
    ]);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});
