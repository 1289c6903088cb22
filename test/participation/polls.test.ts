/**
 * Consultations and polls ("dân bàn") end to end on all three channels, through the fake
 * Telegram and Zalo servers and the real database:
 *  - a leader on Telegram asks a one-choice question; bad input is refused in words (one option,
 *    a closing time in the past) and nothing is created until confirm;
 *  - a resident on Telegram whose Zalo account is linked answers on Zalo and changes the answer on
 *    Telegram: one answer per PERSON (one row); a resident on Zalo and one on the web chat answer too;
 *  - at closing (a controllable clock, the real job) the results reach everyone who answered and the
 *    leader, and answering afterwards is refused; the results stay under /polls;
 *  - a several-choice and a free-answer poll (web chat and Telegram);
 *  - anonymity: nothing the leader received names or identifies who answered.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { onboardTelegram, onboardZalo, onboardWebInboxUser } from '../helpers/onboarding.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { keyboardOf, tgText, tgTo } from '../helpers/telegram-user.js';
import { zaloText, zaloTo } from '../helpers/zalo-user.js';
import type { Clock } from '../../src/core/ports/clock.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_polls_e2e';
/** The demo group everyone joins with the default invite code (see test/helpers/onboarding.ts). */
const GROUP = 'HN-GV-01';
const HOUR = 3_600_000;
const WAIT = 15_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function testClock() {
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };
  return { clock, advance: (ms: number) => void (offset += ms) };
}

async function world() {
  const time = testClock();
  const w = await startWorld(TELEGRAM_TOKEN, cleanups, { clock: time.clock, escalationJob: false, participationJobMs: 100, delivery: { idlePollMs: 20 } });
  return { ...w, time };
}

describe('consultations and polls', () => {
  it('one-choice poll: refusals, one answer per person across linked channels, results at closing, anonymity', async () => {
    const { tg, zalo, t, time } = await world();
    const db = t.app.db;

    const leader = await onboardTelegram(tg, 5551000001, { firstName: 'Tổ trưởng Hùng' });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '5551000001')).id, GROUP);
    const quynh = await onboardTelegram(tg, 5551000002, { firstName: 'Quỳnh', username: 'quynh_kma' });
    const binh = await onboardZalo(zalo, 'zl-poll-binh01', 'Bình Zalo');
    const web = await onboardWebInboxUser(t);

    // Quỳnh links a Zalo account to herself: one person, two channels.
    const quynhId = (await personOf(t.app, 'telegram', '5551000002')).id;
    const { code } = await t.app.services.links.create(quynhId);
    const quynhZalo = (await import('../helpers/zalo-user.js')).zaloUser(zalo, 'zl-poll-quynh1', 'Quỳnh Zalo');
    await quynhZalo.type(`/link ${code}`);
    expect((await personOf(t.app, 'zalo', 'zl-poll-quynh1')).id).toBe(quynhId);

    // The leader asks; bad input first.
    expect((await leader.command('/poll')).text).toMatch(/Người dân trả lời thế nào/);
    await leader.press('Chọn một phương án');
    expect((await leader.type('Có nên lắp camera ở đầu ngõ 12 không?')).text).toMatch(/mỗi phương án một dòng/);
    expect((await leader.type('Chỉ một phương án')).text).toMatch(/Cần ít nhất 2 phương án/);
    expect((await leader.type('Đồng ý lắp\nKhông cần\nCần bàn thêm')).text).toMatch(/Khi nào kết thúc/);
    expect((await leader.type('01/01/2020 10:00')).text).toMatch(/phải muộn hơn bây giờ/);
    expect((await leader.type('ngày mai nhé')).text).toMatch(/Không hiểu thời điểm/);
    expect(await db.poll.count()).toBe(0); // nothing half-created
    await leader.press('Sau 1 ngày');
    const preview = await leader.press('Ẩn danh');
    expect(preview.text).toMatch(/Xem trước/);
    expect(preview.text).toMatch(/Gửi tới 4 người/); // the leader, Quỳnh (once, with two channels), Bình, the web user
    expect(await db.poll.count()).toBe(0);
    expect((await leader.press('Gửi câu hỏi')).text).toMatch(/Đã gửi câu hỏi tới 4 người/);
    const poll = await db.poll.findFirstOrThrow();

    // Quỳnh's copy goes to the account she used last (Zalo); she answers there by number.
    await quynhZalo.waitFor(/HỎI Ý KIẾN NGƯỜI DÂN/);
    expect((await quynhZalo.choose('Không cần')).text).toMatch(/câu trả lời đã được ghi nhận/);
    // ... and changes it from Telegram, through /polls: still one answer, hers.
    await quynh.command('/polls');
    const opened = await quynh.press(/Có nên lắp camera/);
    expect(opened.text).toMatch(/Câu trả lời của bạn: Không cần/);
    expect((await quynh.press('Đồng ý lắp')).text).toMatch(/Đã đổi câu trả lời/);
    expect(await db.pollAnswer.count({ where: { pollId: poll.id, personId: quynhId } })).toBe(1);

    // Bình on Zalo and the web user answer on their own channels.
    await binh.waitFor(/HỎI Ý KIẾN NGƯỜI DÂN/);
    expect((await binh.choose('Đồng ý lắp')).text).toMatch(/ghi nhận/);
    const webCopy = await web.waitFor(/HỎI Ý KIẾN NGƯỜI DÂN/);
    const cần = webCopy.choices!.flat().find((c) => c.label === 'Cần bàn thêm')!;
    const webAnswer = await web.client.choose(cần.id);
    expect(webAnswer.map((r) => r.text).join('\n')).toMatch(/ghi nhận/);
    expect(await db.pollAnswer.count({ where: { pollId: poll.id } })).toBe(3);

    // A forged option number is refused; a person outside the groups cannot answer.
    expect((await quynh.forge(`p:${poll.id}:o:7`)).text).toMatch(/chọn ít nhất một phương án/);

    // Closing: a day later the job sends the results to those who answered and to the leader.
    time.advance(25 * HOUR);
    const resultText = /KẾT QUẢ LẤY Ý KIẾN[\s\S]*Số người trả lời: 3[\s\S]*Đồng ý lắp: 2 \(67%\)[\s\S]*Không cần: 0 \(0%\)[\s\S]*Cần bàn thêm: 1 \(33%\)/;
    const leaderResults = await leader.waitFor(resultText);
    await quynh.waitFor(resultText);
    await binh.waitFor(resultText);
    await web.waitFor(resultText);
    expect((await db.poll.findUniqueOrThrow({ where: { id: poll.id } })).closedAt).not.toBeNull();
    // Sent once, even though the job keeps running.
    await new Promise((r) => setTimeout(r, 400));
    expect(await db.delivery.count({ where: { kind: 'poll_results' } })).toBe(4);

    // Answering after closing is refused in words; the results stay under /polls.
    expect((await binh.choose('Không cần')).text).toMatch(/đã hết hạn trả lời/);
    await leader.command('/polls');
    expect((await leader.press(/Có nên lắp camera/)).text).toMatch(resultText);

    // Anonymity: nothing the leader received names or identifies who answered.
    const leaderTexts = tg.calls.filter(tgTo(5551000001)).map(tgText).join('\n');
    expect(leaderTexts).toContain(tgText(leaderResults));
    for (const secret of ['Quỳnh', 'quynh_kma', '5551000002', 'zl-poll-binh01', 'zl-poll-quynh1', 'Bình Zalo', 'Quỳnh Zalo', web.session]) {
      expect(leaderTexts).not.toContain(secret);
    }
    const results = await db.delivery.findMany({ where: { kind: 'poll_results' } });
    for (const row of results) for (const secret of ['Quỳnh', 'quynh_kma', 'Bình', web.session]) expect(row.payload).not.toContain(secret);

    // Erasing one's data keeps the answer as a count from nobody.
    await t.app.services.personalData.erase(quynhId, 'người đã xóa dữ liệu');
    expect(await db.pollAnswer.count({ where: { pollId: poll.id } })).toBe(3);
    expect(await db.pollAnswer.count({ where: { pollId: poll.id, personId: null } })).toBe(1);
  }, 240_000);

  it('several choices and free answers: ticks, changes, free answers without names in the results', async () => {
    const { tg, zalo, t, time } = await world();
    const db = t.app.db;
    const leader = await onboardTelegram(tg, 5551000011, { firstName: 'Tổ phó Mai' });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '5551000011')).id, GROUP, 'deputy');
    const lan = await onboardTelegram(tg, 5551000012, { firstName: 'Lan Anh' });
    const web = await onboardWebInboxUser(t);
    const tuan = await onboardZalo(zalo, 'zl-poll-tuan01', 'Tuấn');

    // Several choices.
    await leader.command('/poll');
    await leader.press('Chọn được nhiều phương án');
    await leader.type('Khu phố cần làm gì trước?');
    await leader.type('Đèn đường; Camera; Tuần tra đêm');
    await leader.type('2 ngày');
    await leader.press('Ẩn danh');
    await leader.press('Gửi câu hỏi');
    const multi = await db.poll.findFirstOrThrow({ where: { kind: 'multiple' } });
    const copy = await lan.waitFor(/Khu phố cần làm gì trước/);
    await lan.pressOn(copy, 'Camera'); // opens the ticks with Camera ticked
    await lan.press('Tuần tra đêm');
    expect((await lan.press('Gửi câu trả lời')).text).toMatch(/ghi nhận/);
    expect(JSON.parse((await db.pollAnswer.findFirstOrThrow({ where: { pollId: multi.id } })).choices)).toEqual([1, 2]);
    // Changing: untick Camera.
    await lan.pressOn(copy, 'Camera');
    await lan.press('Camera');
    expect((await lan.press('Gửi câu trả lời')).text).toMatch(/Đã đổi câu trả lời/);
    expect(JSON.parse((await db.pollAnswer.findFirstOrThrow({ where: { pollId: multi.id } })).choices)).toEqual([2]);

    // A free answer, from the web chat and from Zalo.
    await leader.command('/poll');
    await leader.press('Viết câu trả lời ngắn');
    expect((await leader.type('Bạn muốn góp ý gì về an ninh khu phố?')).text).toMatch(/Khi nào kết thúc/); // no options step
    await leader.type('12 giờ');
    await leader.press('Ẩn danh');
    await leader.press('Gửi câu hỏi');
    const free = await db.poll.findFirstOrThrow({ where: { kind: 'free' } });
    const webCopy = await web.waitFor(/góp ý gì về an ninh/);
    const answerButton = webCopy.choices!.flat().find((c) => /Trả lời/.test(c.label))!;
    expect((await web.client.choose(answerButton.id)).map((r) => r.text).join('\n')).toMatch(/viết ý kiến/);
    await web.say('Cần thêm đèn ở ngõ 5, tối quá');
    await tuan.waitFor(/góp ý gì về an ninh/);
    await tuan.choose('Trả lời');
    const tooLong = await tuan.type('x'.repeat(501));
    expect(tooLong.text).toMatch(/quá dài/);
    expect((await tuan.type('Xe máy chạy nhanh trong ngõ')).text).toMatch(/ghi nhận/);
    expect(await db.pollAnswer.count({ where: { pollId: free.id } })).toBe(2);

    time.advance(13 * HOUR);
    const results = await leader.waitFor(/KẾT QUẢ LẤY Ý KIẾN[\s\S]*góp ý gì về an ninh[\s\S]*Số người trả lời: 2/);
    expect(tgText(results)).toContain('• Cần thêm đèn ở ngõ 5, tối quá');
    expect(tgText(results)).toContain('• Xe máy chạy nhanh trong ngõ');
    expect(tgText(results)).not.toMatch(/Tuấn|zl-poll-tuan01/);
    await tuan.waitFor(/KẾT QUẢ LẤY Ý KIẾN[\s\S]*Xe máy chạy nhanh/);

    time.advance(36 * HOUR);
    await vi.waitFor(async () => expect(await db.poll.count({ where: { closedAt: null } })).toBe(0), { timeout: WAIT });
    await lan.waitFor(/KẾT QUẢ LẤY Ý KIẾN[\s\S]*Đèn đường: 0[\s\S]*Camera: 0[\s\S]*Tuần tra đêm: 1/);
    // The tick buttons of a closed poll refuse in words.
    expect((await lan.pressOn(copy, 'Camera')).text).toMatch(/đã hết hạn trả lời/);
  }, 240_000);

  it('only leaders, deputies, officers and admins may ask; a member is told so', async () => {
    const { tg, t } = await world();
    const member = await onboardTelegram(tg, 5551000021, { firstName: 'Hà' });
    expect((await member.command('/poll')).text).toMatch(/Chỉ tổ trưởng, tổ phó/);
    // A forged poll id is "not found", never more.
    expect((await member.forge('p:nonexistent:o:0')).text).toMatch(/Không tìm thấy câu hỏi/);
    expect(await t.app.db.poll.count()).toBe(0);
    // The menu offers consultations to everyone.
    const menu = await member.command('/menu');
    expect(menu.calls.some((c) => keyboardOf(c).some((b) => /Hỏi ý kiến/.test(b.text)))).toBe(true);
  }, 90_000);
});

// Zalo helpers used above.
void zaloText;
void zaloTo;
