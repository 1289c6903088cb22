/**
 * The review's P2 findings on alerts (issue 11 item 4), read as residents and senders read them on
 * Telegram, Zalo and the web chat, through the fake platforms and a real database:
 * - an alert says who sent it, by role and unit: "Tổ trưởng Tổ dân phố số 1", "Công an phường Giảng Võ";
 * - the severity reads naturally: "CẢNH BÁO — <loại> (mức trung bình)", never "CẢNH BÁO TRUNG BÌNH";
 *   the picker shows the same colours the residents will see;
 * - a cancellation says so and why, without the alarm header again;
 * - the sender's counts say who pressed "Đã nhận" rather than "received", and the refresh button
 *   no longer sounds like "send an update";
 * - "tiếng" and "tuần" are understood as expiries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram, onboardWeb, onboardZalo } from '../helpers/onboarding.js';
import { keyboardOf, tgText } from '../helpers/telegram-user.js';
import { numberedItems } from '../helpers/labels.js';
import { texts, waitForWebMessage } from '../helpers/web-client.js';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { parseDuration } from '../../src/core/services/alert.catalog.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN = '700333:p2-alerts-token';
const HOUR = 3_600_000;

describe('P2: alerts say who sent them and read naturally', () => {
  it("a leader's alert on Telegram reaches Zalo and the web with its sender; counts say who pressed what; the cancellation says why, without the alarm", async () => {
    const { tg, zalo, t } = await startWorld(TOKEN, cleanups);
    const leader = await onboardTelegram(tg, 931_001, { firstName: 'Tổ trưởng' });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '931001')).id, 'HN-GV-01');
    const tu = await onboardZalo(zalo, 'zalo-p2-tu', 'Bác Tư');
    const web = await onboardWeb(t.baseUrl, 'KMA234');

    await leader.command('/alert');
    let turn = await leader.press('An ninh');
    expect(turn.text).toMatch(/^Mức độ:/);
    expect(keyboardOf(turn.calls.at(-1)!).map((b) => b.text)).toEqual(['🔴 Khẩn cấp', '🟠 Cao', '🟡 Trung bình', '🔵 Thấp']);
    await leader.press('Trung bình');
    await leader.type('Trộm xe máy ban đêm');
    await leader.type('Hai xe bị mất trong tuần này ở hẻm 12.');
    await leader.press('Bỏ qua');
    await leader.type('1 tuần');
    turn = await leader.press('Cảnh báo thật');
    const SENDER = 'Người gửi: Tổ trưởng Tổ dân phố số 1\nGửi tới: Tổ dân phố số 1';
    expect(turn.text).toContain('🟡 CẢNH BÁO — 🛡 An ninh, trật tự (mức trung bình)\nTrộm xe máy ban đêm');
    expect(turn.text).toContain(SENDER);
    expect(turn.text).not.toMatch(/CẢNH BÁO TRUNG BÌNH/);
    expect(keyboardOf(turn.calls.at(-1)!).map((b) => b.text)).toEqual(['📣 Gửi cảnh báo', '✏️ Soạn lại từ đầu', '🗑 Bỏ bản nháp']);
    await leader.press('Gửi cảnh báo');
    const alert = await t.app.db.alert.findFirstOrThrow({ where: { headline: 'Trộm xe máy ban đêm' } });
    expect(alert.expiresAt.getTime() - alert.createdAt.getTime()).toBe(7 * 24 * HOUR);

    // Zalo and the web read the same header and who sent it.
    const onZalo = await tu.waitFor(/Trộm xe máy ban đêm/);
    expect(tgTextOf(onZalo.body)).toMatch(/^🟡 CẢNH BÁO — 🛡 An ninh, trật tự \(mức trung bình\)\nTrộm xe máy ban đêm\n/);
    expect(tgTextOf(onZalo.body)).toContain(SENDER);
    const onWeb = await waitForWebMessage(web, /Trộm xe máy ban đêm/, 15_000);
    expect(onWeb.text).toContain(SENDER);

    // Bác Tư types 1 (Đã nhận) on Zalo; the leader's counts say who pressed what.
    expect((await tu.type('1')).text).toMatch(/Đã ghi nhận câu trả lời/);
    const status = await leader.waitFor(/Tình hình cảnh báo "Trộm xe máy ban đêm"/);
    expect(keyboardOf(status).map((b) => b.text)).toContain('🔄 Xem số liệu mới nhất');
    expect(keyboardOf(status).map((b) => b.text)).not.toContain('🔄 Cập nhật số liệu');
    const counted = await tg.waitFor(
      (c) => c.method === 'editMessageText' && /Đã trả lời:\n✅ "Đã nhận": 1\n🙆 "Tôi an toàn": 0\n🆘 "Cần giúp đỡ": 0/.test(tgText(c)),
      15_000,
    );
    expect(tgText(counted)).not.toMatch(/✅ Đã nhận: /);

    // The cancellation: what and why, no alarm header, no answers asked.
    await leader.pressOn(status, 'Hủy cảnh báo');
    await leader.type('Đã bắt được kẻ trộm.');
    await leader.press('Hủy cảnh báo');
    const CANCEL = 'ĐÃ HỦY cảnh báo "Trộm xe máy ban đêm". Bà con không cần làm gì thêm.\nLý do: Đã bắt được kẻ trộm.';
    const cancelZalo = tgTextOf((await tu.waitFor(/ĐÃ HỦY/)).body);
    expect(cancelZalo).toContain(CANCEL);
    expect(cancelZalo).not.toMatch(/CẢNH BÁO —|mức trung bình/);
    expect(cancelZalo).toContain(SENDER);
    expect(numberedItems(cancelZalo)).toEqual([]);
    const cancelWeb = await waitForWebMessage(web, /ĐÃ HỦY/, 15_000);
    expect(cancelWeb.text).toContain(CANCEL);
    expect(cancelWeb.text).not.toMatch(/CẢNH BÁO —/);
    expect(cancelWeb.choices ?? []).toEqual([]);
  }, 180_000);

  it("an officer's alert names the police unit on every channel, and in English names it as the police", async () => {
    const { tg, zalo, t } = await startWorld(TOKEN, cleanups);
    const hoa = await onboardTelegram(tg, 932_001, { firstName: 'Hoa' });
    const officerTg = await onboardTelegram(tg, 932_002, { firstName: 'Đại úy' }, { code: 'DBC345', joined: /Bạn đã tham gia Tổ dân phố số 3/ });
    const officerId = (await personOf(t.app, 'telegram', '932002')).id;
    await makeOfficer(t.app, officerId, 'HN-GV');
    const john = await onboardZalo(zalo, 'zalo-p2-john', 'John', { locale: 'en' });
    const web = await onboardWeb(t.baseUrl, 'KMA234');

    // The officer writes it; the preview already names the unit.
    await officerTg.command('/alert');
    await officerTg.press('Tổ dân phố số 1');
    await officerTg.press('Xong');
    await officerTg.press('Thiên tai');
    await officerTg.press('Khẩn cấp');
    await officerTg.type('Nước sông lên nhanh');
    await officerTg.type('Mực nước sông Tô Lịch dâng cao.');
    await officerTg.type('Di chuyển đồ đạc lên cao.');
    await officerTg.type('3 tiếng');
    const preview = await officerTg.press('Cảnh báo thật');
    expect(preview.text).toContain('🔴 CẢNH BÁO — 🌊 Thiên tai, ngập lụt (mức khẩn cấp)');
    expect(preview.text).toContain('Người gửi: Công an phường Giảng Võ\nGửi tới: Tổ dân phố số 1');
    await officerTg.press('Gửi cảnh báo');
    const alert = await t.app.db.alert.findFirstOrThrow({ where: { headline: 'Nước sông lên nhanh' } });
    expect(alert.expiresAt.getTime() - alert.createdAt.getTime()).toBe(3 * HOUR);

    expect(tgText(await hoa.waitFor(/Nước sông lên nhanh/))).toContain('Người gửi: Công an phường Giảng Võ');
    expect(texts([await waitForWebMessage(web, /Nước sông lên nhanh/, 15_000)])).toContain('Người gửi: Công an phường Giảng Võ');
    const english = tgTextOf((await john.waitFor(/Nước sông lên nhanh/)).body);
    expect(english).toMatch(/^🔴 ALERT — 🌊 Natural disaster, flooding \(emergency severity\)\n/);
    expect(english).toContain('From: Công an phường Giảng Võ (police)\nSent to: Tổ dân phố số 1');
  }, 180_000);

  it('expiries: "tiếng", "tuần", with or without accents, and short forms', () => {
    expect(parseDuration('2 tiếng')).toBe(2 * HOUR);
    expect(parseDuration('2 tieng')).toBe(2 * HOUR);
    expect(parseDuration('1 tuần')).toBe(7 * 24 * HOUR);
    expect(parseDuration('2 tuan')).toBe(14 * 24 * HOUR);
    expect(parseDuration('3h')).toBe(3 * HOUR);
    expect(parseDuration('45p')).toBe(45 * 60_000);
    expect(parseDuration('5 tuần')).toBeUndefined(); // more than 30 days
    expect(parseDuration('chiều nay')).toBeUndefined();
  });
});

const tgTextOf = (body: Record<string, unknown>) => String(body.text ?? body.caption ?? '');
