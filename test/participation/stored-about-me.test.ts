/**
 * "What is stored about me" names a person's poll answers, forum opinions and mediation requests
 * (issue 13), and /delete_me treats them as the notice says: answers and opinions keep counting
 * without the person, an open mediation request ends. Through the fake Telegram and the real database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { ensureMessengerAccount, makeLeader, personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';

const TOKEN = '123456789:AAE-fake_telegram_token_stored_part';
const GROUP = 'HN-GV-01';
const DAY = 86_400_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('what is stored about me: consultations, forums, mediation', () => {
  it('lists them, and erasure unlinks answers and opinions and ends an open request', { timeout: 180_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const db = app.db;
    const group = await db.group.findUniqueOrThrow({ where: { code: GROUP } });
    const leader = await db.person.create({ data: { displayName: 'Tổ trưởng', locale: 'vi' } });
    await ensureMessengerAccount(app, leader.id);
    await makeLeader(app, leader.id, GROUP);
    const lanTg = await onboardTelegram(tg, 6_840_011, { firstName: 'Lan' });
    const lan = await personOf(app, 'telegram', '6840011');

    // Nothing yet: each line says so.
    await lanTg.command('/settings');
    let turn = await lanTg.press('Hệ thống lưu gì về tôi');
    expect(turn.text).toContain('• Câu trả lời lấy ý kiến: không có\n• Ý kiến gửi diễn đàn lắng nghe: không có\n• Yêu cầu hòa giải: không có');
    await lanTg.command('/menu');

    const question = 'Có nên trồng thêm cây hoa sữa ở ngõ 12?';
    const { poll } = await app.services.polls.create(leader.id, { groupIds: [group.id], kind: 'single', question, options: ['Có', 'Không'], closesAt: new Date(Date.now() + 2 * DAY), anonymous: true });
    await app.services.polls.answer(lan.id, poll.id, { choices: [0] });
    const { forum } = await app.services.forums.open(leader.id, { groupIds: [group.id], topic: 'Vệ sinh môi trường tháng 12', closesAt: new Date(Date.now() + 2 * DAY) });
    await app.services.forums.say(lan.id, forum.id, 'Cần thêm thùng rác ở đầu ngõ', false);
    const { mediation } = await app.services.mediation.request(lan.id, { groupId: group.id, subject: 'Nhà bên cạnh để nước chảy sang sân', invite: true });

    await lanTg.command('/settings');
    turn = await lanTg.press('Hệ thống lưu gì về tôi');
    expect(turn.text).toContain(`• Câu trả lời lấy ý kiến: 1: “${question}” (đang mở)`);
    expect(turn.text).toContain('• Ý kiến gửi diễn đàn lắng nghe: 1: “Vệ sinh môi trường tháng 12” (có ghi tên bạn)');
    expect(turn.text).toContain(`• Yêu cầu hòa giải: 1: ${mediation.ref} (bạn đề nghị; mới, chờ tổ hòa giải nhận)`);
    expect(turn.text).toContain('Nếu bạn xóa dữ liệu, câu trả lời và ý kiến của bạn vẫn được tính');
    // The old lines are all still there, and the way to delete it all stays last.
    expect(turn.text).toContain('• Câu trả lời cảnh báo: 0');
    const lines = turn.text.split('\n---\n')[0]!.split('\n');
    expect(lines.findIndex((l) => l.startsWith('• Yêu cầu hòa giải'))).toBeLessThan(lines.length - 2);
    expect(lines.at(-1)).toMatch(/xóa|delete/i);
    await lanTg.command('/menu');

    await lanTg.command('/delete_me');
    turn = await lanTg.press('Xóa tất cả dữ liệu của tôi');
    expect(turn.text).toContain('Đã xóa toàn bộ dữ liệu của bạn.');
    // The answer still counts, from nobody; the opinion stays for the handlers without a name; the request ended.
    const results = await app.services.polls.results(await db.poll.findUniqueOrThrow({ where: { id: poll.id } }));
    expect(results).toMatchObject({ answers: 1, counts: [1, 0] });
    expect(await db.pollAnswer.count({ where: { personId: lan.id } })).toBe(0);
    const opinion = await db.forumOpinion.findFirstOrThrow({ where: { forumId: forum.id } });
    expect(opinion).toMatchObject({ personId: null, text: 'Cần thêm thùng rác ở đầu ngõ' });
    const view = await app.services.forums.handlerView(leader.id, forum.id, (key) => key, 'vi');
    expect(view.text).not.toContain('Lan');
    const ended = await db.mediation.findUniqueOrThrow({ where: { id: mediation.id } });
    expect(ended).toMatchObject({ status: 'withdrawn', requesterId: null, inviteCodeHash: null });
  });
});
