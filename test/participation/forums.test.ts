/**
 * Listening forums (lắng nghe ý kiến nhân dân) end to end: an officer on Telegram opens a topic
 * for the group; residents on Telegram, Zalo and the web chat send opinions (anonymous or signed;
 * one over the length limit is refused); the officer reads them grouped by shared words, the
 * most-raised concern first, without the names of anonymous writers; answers two publicly to
 * everyone who took part; closes the forum with a summary; a late opinion is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { onboardTelegram, onboardZalo, onboardWebInboxUser } from '../helpers/onboarding.js';
import { makeOfficer, personOf } from '../helpers/roles.js';
import { tgText } from '../helpers/telegram-user.js';
import { texts } from '../helpers/web-client.js';
import { groupOpinions } from '../../src/core/services/forum.service.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_forums_e2e';
/** The ward of the demo group of invite code KMA234 (prisma/seed/demo-areas.json). */
const WARD = 'HN-GV';

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('grouping opinions by shared words', () => {
  it('puts the most-raised concern first, by shared syllable pairs or two shared words', () => {
    const groups = groupOpinions([
      { text: 'Xe máy chạy rất nhanh trong ngõ' },
      { text: 'Đèn đường ngõ 5 hỏng lâu rồi' },
      { text: 'Cần sửa đèn đường ở ngõ 7' },
      { text: 'Tối quá vì đèn đường không sáng' },
      { text: 'Thanh niên tụ tập hát karaoke khuya' },
    ]);
    expect(groups.map((g) => [g.label, g.opinions.length])).toEqual([
      ['đèn đường', 3],
      ['xe máy chạy', 1],
      ['thanh niên tụ', 1],
    ]);
  });
});

describe('listening forums', () => {
  it('opinions on three channels, grouped for the officer, answered publicly, closed with a summary', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups, { escalationJob: false, delivery: { idlePollMs: 20 } });
    const db = t.app.db;
    const officer = await onboardTelegram(tg, 5554000001, { firstName: 'Trung úy Nam' });
    await makeOfficer(t.app, (await personOf(t.app, 'telegram', '5554000001')).id, WARD);
    const hoa = await onboardTelegram(tg, 5554000002, { firstName: 'Hoa', username: 'hoa_secret' });
    const ky = await onboardZalo(zalo, 'zl-forum-ky0001', 'Kỳ Zalo');
    const web = await onboardWebInboxUser(t);
    const signer = await onboardTelegram(tg, 5554000003, { firstName: 'Ông Thành' });

    // The officer opens a forum for the group (five groups in the ward: tick one).
    await officer.command('/forums');
    await officer.press('Mở diễn đàn mới');
    await officer.press(/Tổ dân phố số 1/);
    await officer.press('Xong');
    await officer.type('An ninh trật tự khu phố tháng 12');
    await officer.press('7 ngày');
    expect((await officer.press('Mở diễn đàn')).text).toMatch(/Đã mở diễn đàn/);
    const forum = await db.forum.findFirstOrThrow();

    // Opinions: Telegram (anonymous), Zalo (anonymous; one too long first), web (anonymous), Telegram signed.
    const invite = await hoa.waitFor(/LẮNG NGHE Ý KIẾN NHÂN DÂN/);
    await hoa.pressOn(invite, 'Gửi ý kiến');
    await hoa.press('Ẩn danh');
    expect((await hoa.type('Đèn đường ngõ 5 hỏng lâu rồi, tối đi lại sợ')).text).toMatch(/ý kiến đã được gửi/);

    await ky.waitFor(/LẮNG NGHE Ý KIẾN NHÂN DÂN/);
    await ky.choose('Gửi ý kiến');
    await ky.choose('Ẩn danh');
    expect((await ky.type('x'.repeat(1001))).text).toMatch(/quá dài/);
    expect((await ky.type('Cần sửa đèn đường ở ngõ 7')).text).toMatch(/ý kiến đã được gửi/);

    const webInvite = await web.waitFor(/LẮNG NGHE Ý KIẾN NHÂN DÂN/);
    await web.client.choose(webInvite.choices!.flat().find((c) => /Gửi ý kiến/.test(c.label))!.id);
    const anon = await web.say('1'); // Ẩn danh
    expect(texts(anon)).toMatch(/viết ý kiến/);
    await web.say('Xe máy chạy rất nhanh trong ngõ, nguy hiểm cho trẻ em');

    const signerInvite = await signer.waitFor(/LẮNG NGHE Ý KIẾN NHÂN DÂN/);
    await signer.pressOn(signerInvite, 'Gửi ý kiến');
    await signer.press('Kèm tên');
    await signer.type('Tối quá vì đèn đường không sáng');
    expect(await db.forumOpinion.count({ where: { forumId: forum.id } })).toBe(4);

    // The officer reads them: "đèn đường" first (3), then the motorbikes; names only where signed.
    await officer.command('/forums');
    const view = await officer.press(/Xem ý kiến: An ninh trật tự/);
    expect(view.text).toMatch(/4 ý kiến[\s\S]*"đèn đường": 3 ý kiến[\s\S]*1\. Đèn đường ngõ 5[\s\S]*2\. Cần sửa đèn đường[\s\S]*4\. Tối quá vì đèn đường không sáng — Ông Thành[\s\S]*: 1 ý kiến[\s\S]*3\. Xe máy chạy/);
    for (const secret of ['Hoa', 'hoa_secret', '5554000002', 'Kỳ', 'zl-forum-ky0001', web.session]) expect(view.text).not.toContain(secret);

    // A public answer to opinions 1 and 2 reaches everyone who took part.
    await officer.press('Trả lời công khai');
    expect((await officer.type('1, 2')).text).toMatch(/Câu trả lời công khai/);
    expect((await officer.type('Phường đã báo điện lực thay đèn ngõ 5 và ngõ 7 trong tuần này.')).text).toMatch(/2 ý kiến/);
    const answer = /Trả lời ý kiến[\s\S]*Đèn đường ngõ 5[\s\S]*Cần sửa đèn đường ở ngõ 7[\s\S]*Trả lời: Phường đã báo điện lực/;
    await hoa.waitFor(answer);
    await ky.waitFor(answer);
    await web.waitFor(answer);
    await signer.waitFor(answer);

    // Closing with a summary; a late opinion is refused.
    const again = await officer.command('/forums');
    void again;
    await officer.press(/Xem ý kiến: An ninh trật tự/);
    await officer.press('Kết thúc và tổng kết');
    expect((await officer.type('Cảm ơn bà con. Đèn sẽ được thay; công an phường tăng tuần tra giờ tan học.')).text).toMatch(/Đã kết thúc diễn đàn/);
    const summary = /Tổng kết diễn đàn "An ninh trật tự khu phố tháng 12" \(4 ý kiến\)[\s\S]*tăng tuần tra/;
    await hoa.waitFor(summary);
    await ky.waitFor(summary);
    await web.waitFor(summary);
    expect((await hoa.pressOn(invite, 'Gửi ý kiến')).text).toMatch(/đã kết thúc, không nhận thêm ý kiến/);
    expect((await db.forum.findUniqueOrThrow({ where: { id: forum.id } })).closedAt).not.toBeNull();

    // Nothing sent to participants names anyone but the one who signed.
    const sentToHoa = tg.calls.filter((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '5554000002').map(tgText).join('\n');
    for (const secret of ['Kỳ Zalo', 'zl-forum-ky0001', web.session, 'Ông Thành']) expect(sentToHoa).not.toContain(secret);
  }, 240_000);

  it('only leaders, deputies and officers open forums; a stranger cannot read one', async () => {
    const { tg, t } = await startWorld(TELEGRAM_TOKEN, cleanups, { escalationJob: false });
    const member = await onboardTelegram(tg, 5554000011, { firstName: 'Lâm' });
    expect((await member.command('/forum')).text).toMatch(/Chỉ tổ trưởng, tổ phó/);
    expect((await member.forge('f:nonexistent:h')).text).toMatch(/Không tìm thấy diễn đàn/);
    expect(await t.app.db.forum.count()).toBe(0);
  }, 90_000);
});
