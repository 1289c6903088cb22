/**
 * One case across channels: a resident reports on Zalo (numbers only), a ward officer
 * handles it on Telegram (buttons). Acknowledge, a question and its answer, resolve,
 * "not fixed" back into the queue, resolve again, "fixed" closes it; the reporter's
 * photo reaches the officer as an uploaded Telegram photo.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeOfficer, personOf } from '../helpers/roles.js';
import { keyboardOf, tgText } from '../helpers/telegram-user.js';
import { zaloText } from '../helpers/zalo-user.js';
import { onboardTelegramWithoutGroup, onboardZalo } from '../helpers/onboarding.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { distinctJpeg, startPhotoServer, storedBytes, uploadedBytes } from '../helpers/photos.js';
import { offered, refOf } from '../helpers/cases.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_cross_report';

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('a case across channels: Zalo reporter, Telegram ward officer', () => {
  it('notification with Open, acknowledge, question and answer, resolve, not fixed back in the queue, resolve, fixed closes; the photo arrives as an upload', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const jpeg = distinctJpeg('zalo-reporter-photo-for-telegram');
    const cdn = await startPhotoServer(jpeg, cleanups);

    // The officer is no group member: /start, language, privacy, "later"; then the ward officer role.
    const officer = await onboardTelegramWithoutGroup(tg, 7_100_001, { firstName: 'Đại úy', lastName: 'Phường Giảng Võ' }, /Bạn có thể chọn khu dân cư sau/);
    await makeOfficer(t.app, (await personOf(t.app, 'telegram', '7100001')).id, 'HN-GV');

    // The resident reports on Zalo, anonymously, security (so the ward police get it at once), with a photo.
    const rep = await onboardZalo(zalo, 'zalo-rep-71', 'Ngô Thị Mai');
    await rep.type('/report');
    await rep.choose('Không');
    await rep.choose('Trộm cắp');
    await rep.type('Có người lạ đi thử tay nắm cửa ô tô dọc ngõ 5');
    expect((await rep.photo(cdn.url)).text).toMatch(/Đã nhận ảnh/);
    await rep.type('Ngõ 5 Núi Trúc');
    await rep.choose('Ẩn danh');
    let zturn = await rep.choose('Gửi phản ánh');
    expect(zturn.text).toMatch(/Tổ trưởng, tổ phó Tổ dân phố số 1 và Công an phường Giảng Võ sẽ tiếp nhận và xử lý/);
    const ref = refOf(zturn.text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    const alias = `ẩn danh #${c.alias}`;

    // The officer's notification: the photo uploaded to Telegram, the case as caption, an Open button.
    const note = await officer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    expect(note.method).toBe('sendPhoto');
    // Re-encoded without metadata: Telegram gets the stored copy, not the bytes Zalo served.
    const storedCopy = await storedBytes(t, c.photoMediaId!);
    expect(note.body.photo).toEqual({ filename: 'photo.jpg', size: storedCopy.length });
    expect((await uploadedBytes(tg, note)).equals(storedCopy)).toBe(true);
    expect(tgText(note)).toContain(`Người phản ánh: ${alias}`);
    expect(tgText(note)).toMatch(/Nơi xảy ra: Ngõ 5 Núi Trúc/);
    expect(keyboardOf(note)).toEqual([{ text: `Xem ${ref}`, callback_data: `c:${c.id}:open` }]);

    // Open from the notification.
    let turn = await officer.press(`Xem ${ref}`);
    expect(turn.text).toMatch(new RegExp(`📋 ${ref} — 🛡 Trộm cắp, đánh nhau, tội phạm\\nTrạng thái: mới · Cấp xử lý: tổ trưởng, tổ phó khu dân cư\\nNgười phản ánh: ${alias}`));
    expect(officer.buttons('Tiếp nhận').map((b) => b.text)).toEqual([
      '👍 Tiếp nhận',
      '❓ Hỏi / trả lời người phản ánh',
      '🔒 Ghi chú nội bộ',
      '✅ Đã xử lý xong',
      '🔁 Đánh dấu trùng',
      '⬆️ Chuyển cấp trên',
      '⬅️ Về danh sách',
    ]);

    // Acknowledge: the reporter hears of it on Zalo.
    let since = zalo.sent.length;
    turn = await officer.press('Tiếp nhận');
    expect(turn.text).toMatch(new RegExp(`Đã tiếp nhận ${ref}\\. Người phản ánh đã được báo\\.`));
    await rep.waitFor(new RegExp(`Phản ánh ${ref} của bạn đã được tiếp nhận`), since);

    // A question: the reporter answers by typing 1, then the text.
    turn = await officer.press('Hỏi');
    expect(turn.text).toMatch(new RegExp(`Gõ câu hỏi hoặc câu trả lời gửi tới người phản ánh ${ref}`));
    turn = await officer.type('Người đó mặc áo màu gì?');
    expect(turn.text).toMatch(/Đã gửi tới người phản ánh/);
    const question = await rep.waitFor(/"Người đó mặc áo màu gì\?"/, since);
    expect(zaloText(question)).toMatch(/Muốn trả lời, chọn Trả lời \(gõ số 1\)\.\n\nTrả lời bằng cách gõ số \(ví dụ: 1\):\n1\. ✍️ Trả lời$/);
    await offered(t, 'zalo', rep.id, `c:${c.id}:reply`);
    zturn = await rep.type('1');
    expect(zturn.text).toMatch(new RegExp(`Gõ câu trả lời cho người xử lý phản ánh ${ref}`));
    const tgSince = tg.calls.length;
    zturn = await rep.type('Áo khoác xám, đi xe Wave màu đỏ');
    expect(zturn.text).toMatch(/Đã gửi câu trả lời của bạn/);
    const answer = await officer.waitFor(/Áo khoác xám, đi xe Wave màu đỏ/, tgSince);
    expect(tgText(answer)).toBe(`💬 Người phản ánh (${alias}) nhắn về ${ref}:\n"Áo khoác xám, đi xe Wave màu đỏ"`);

    // Resolve; the reporter says "not fixed" by typing its number.
    since = zalo.sent.length;
    turn = await officer.press('Đã xử lý xong');
    expect(turn.text).toMatch(/Gõ kết quả xử lý/);
    turn = await officer.type('Đã tuần tra và nhắc nhở');
    expect(turn.text).toMatch(new RegExp(`Đã đánh dấu ${ref} là đã xử lý`));
    const resolved = await rep.waitFor(/đã được xử lý:\n"Đã tuần tra và nhắc nhở"/, since);
    expect(zaloText(resolved)).toMatch(/\n1\. 👍 Đã ổn\n2\. 👎 Chưa ổn$/);
    await offered(t, 'zalo', rep.id, `c:${c.id}:notfixed`);
    const beforeNotFixed = tg.calls.length;
    zturn = await rep.type(String(rep.numberOf('Chưa ổn')));
    expect(zturn.text).toMatch(new RegExp(`Đã ghi nhận\\. Phản ánh ${ref} đã được chuyển lại cho người xử lý\\.`));
    await officer.waitFor(new RegExp(`Người phản ánh cho biết ${ref} CHƯA được giải quyết`), beforeNotFixed);

    // Back in the queue, with the event recorded.
    let stored = await t.app.db.case.findUniqueOrThrow({ where: { ref }, include: { events: { orderBy: { createdAt: 'asc' } } } });
    expect(stored.status).toBe('reopened');
    expect(stored.events.map((e) => e.type)).toEqual(['created', 'acknowledged', 'asked', 'reporter_message', 'resolved', 'closed_not_fixed']);
    turn = await officer.command('/cases');
    expect(turn.text).toMatch(/Phản ánh đang mở \(1\)/);
    expect(officer.buttons(ref)[0]!.text).toBe(`${ref} · 🛡 Trộm cắp, đánh nhau, tội phạm · đã mở lại`);
    turn = await officer.press(ref);
    expect(turn.text).toMatch(/Trạng thái: đã mở lại/);
    expect(turn.text).toContain(`• ${alias}: Áo khoác xám, đi xe Wave màu đỏ`);

    // Resolve again; "fixed" closes it.
    since = zalo.sent.length;
    await officer.press('Đã xử lý xong');
    await officer.type('Đã bắt giữ đối tượng');
    await rep.waitFor(/đã được xử lý:\n"Đã bắt giữ đối tượng"/, since);
    await offered(t, 'zalo', rep.id, `c:${c.id}:fixed`);
    zturn = await rep.type(String(rep.numberOf('Đã ổn')));
    expect(zturn.text).toMatch(new RegExp(`Cảm ơn bạn đã phản ánh! Phản ánh ${ref} đã được đóng\\.`));
    stored = await t.app.db.case.findUniqueOrThrow({ where: { ref }, include: { events: { orderBy: { createdAt: 'asc' } } } });
    expect(stored.status).toBe('closed');
    expect(stored.events.map((e) => e.type)).toEqual(['created', 'acknowledged', 'asked', 'reporter_message', 'resolved', 'closed_not_fixed', 'resolved', 'closed']);

    // The queue is empty; the reporter's list shows the status.
    expect((await officer.command('/cases')).text).toMatch(/Hiện không có phản ánh nào đang chờ xử lý/);
    zturn = await rep.type('/myreports');
    expect(zturn.text).toContain(`${ref} · 🛡 Trộm cắp, đánh nhau, tội phạm · đã đóng`);

    // Nothing the officer received names the anonymous reporter.
    const toOfficer = tg.calls.filter((call) => String(call.body.chat_id) === '7100001').map((call) => JSON.stringify(call.body));
    for (const body of toOfficer) {
      expect(body).not.toContain('Ngô Thị Mai');
      expect(body).not.toContain('zalo-rep-71');
    }
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});
