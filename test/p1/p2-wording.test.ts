/**
 * The review's P2 wording (issue 11 item 4) as residents read it on Telegram, Zalo and the web:
 * - one word for the residential group in labels, "khu dân cư": no "nhóm" anywhere a resident
 *   walks, while the group's own name says what it is ("Tổ dân phố số 1");
 * - the report asks "where" once (the description asks what, when and who), and its preview says
 *   "Danh tính" honestly when the app gives no name;
 * - the categories carry examples ("karaoke, nhậu"), so a late-night karaoke lands in the right one;
 * - "Trả lời" on a handler's question asks for an answer, not for "more information";
 * - what is stored names the residential group and the language in the reader's language;
 * - the list of one's reports has a way back to the menu.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram, onboardWeb, onboardZalo } from '../helpers/onboarding.js';
import { zaloText, zaloTo } from '../helpers/zalo-user.js';
import { numberedItems } from '../helpers/labels.js';
import { texts, waitForWebMessage } from '../helpers/web-client.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN = '700555:p2-wording-token';

describe('P2: one word for the residential group, and reports worded for the reporter', () => {
  it('on Zalo a resident walks the menu, her groups and settings without meeting "nhóm"; the group keeps its own name', async () => {
    const { zalo } = await startWorld(TOKEN, cleanups);
    const ba = await onboardZalo(zalo, 'zalo-p2-ba', 'Bà Ba');
    const menu = await ba.type('/menu');
    expect(numberedItems(menu.text).map(([, l]) => l)).toContain('👥 Khu dân cư của tôi');
    const mine = await ba.choose('Khu dân cư của tôi');
    expect(mine.text).toMatch(/^Khu dân cư của bạn\. Chọn một khu để xem, hoặc tham gia khu dân cư khác:/);
    expect(numberedItems(mine.text).map(([, l]) => l)).toEqual(['Tổ dân phố số 1 (Phường Giảng Võ)', '➕ Tham gia khu dân cư khác', '⬅️ Về menu chính']);
    const view = await ba.choose('Tổ dân phố số 1');
    expect(numberedItems(view.text).map(([, l]) => l).slice(0, 2)).toEqual(['👤 Hiện tên của tôi', '🚪 Rời khu dân cư này']);
    expect((await ba.choose('Hiện tên của tôi')).text).toMatch(/Từ nay tổ trưởng, tổ phó Tổ dân phố số 1 sẽ thấy tên hiển thị của bạn\./);
    await ba.type('/settings');
    const stored = await ba.choose('Hệ thống lưu gì');
    expect(stored.text).toMatch(/• Ngôn ngữ: Tiếng Việt\n/);
    expect(stored.text).toMatch(/• Khu dân cư: Tổ dân phố số 1 \(đang tham gia, tổ trưởng thấy tên bạn\)\n/);
    expect(stored.text).toMatch(/Muốn xóa tất cả: chọn "Xóa dữ liệu của tôi" trong Cài đặt\.$/m);

    const everything = zalo.sent.filter(zaloTo('zalo-p2-ba')).map(zaloText);
    expect(everything.length).toBeGreaterThan(8);
    expect(everything.filter((x) => /\bnhóm\b/i.test(x))).toEqual([]);
  }, 120_000);

  it('on the web: "where" is asked once, karaoke has its category, and a nameless "named" report says so', async () => {
    const { t } = await startWorld(TOKEN, cleanups);
    const web = await onboardWeb(t.baseUrl, 'KMA234');
    await web.say('/report');
    const categories = await web.say('Không');
    const labels = categories.at(-1)!.choices!.flat().map((c) => c.label);
    expect(labels).toEqual(expect.arrayContaining(['🛡 Trộm cắp, đánh nhau, tội phạm', '📢 Gây mất trật tự, ồn ào (karaoke, nhậu…)', '🏗 Đường sá, điện, cống, rác, môi trường']));
    const describe_ = texts(await web.pick(categories, 'karaoke'));
    expect(describe_).toMatch(/Mời bạn kể lại sự việc: chuyện gì xảy ra, lúc nào, có ai liên quan \(tối đa 2000 ký tự\)\. Địa điểm sẽ hỏi ở bước sau\./);
    expect(describe_).not.toMatch(/ở đâu/);
    await web.say('Hát karaoke đến 1 giờ sáng');
    await web.say('Bỏ qua');
    const anonymity = await web.say('Nhà văn hóa tổ 1');
    const preview = texts(await web.pick(anonymity, 'Kèm tên'));
    expect(preview).toMatch(/• Loại: 📢 Gây mất trật tự, ồn ào \(karaoke, nhậu…\)\n• Khu dân cư: Tổ dân phố số 1 \(Phường Giảng Võ\)\n/);
    expect(preview).toMatch(/• Danh tính: kèm tên \(nhưng ứng dụng này không cho biết tên bạn\)/);
    expect(preview).not.toMatch(/người dân \(không rõ tên\)/);
  }, 120_000);

  it('"Trả lời" on a question asks for the answer, on Telegram and on the web', async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const leaderTg = await onboardTelegram(tg, 951_001, { firstName: 'Tổ trưởng' });
    const leaderId = (await personOf(t.app, 'telegram', '951001')).id;
    await makeLeader(t.app, leaderId, 'HN-GV-01');
    const lan = await onboardTelegram(tg, 951_002, { firstName: 'Lan' });
    const web = await onboardWeb(t.baseUrl, 'KMA234');
    expect(leaderTg.userId).toBe(951_001);

    for (const who of ['telegram', 'web'] as const) {
      const reporterId = who === 'telegram' ? (await personOf(t.app, 'telegram', '951002')).id : (await personOf(t.app, 'web', web.session)).id;
      const group = await t.app.db.group.findUniqueOrThrow({ where: { code: 'HN-GV-01' } });
      const { case: c } = await t.app.services.cases.create(reporterId, { groupId: group.id, category: 'order', urgent: false, description: 'Chó thả rông', anonymous: true });
      await t.app.services.cases.ask(leaderId, c.id, 'Chó nhà số mấy ạ?');
      const ASK = new RegExp(`Gõ câu trả lời cho người xử lý phản ánh ${c.ref} \\(có thể gửi thêm ảnh\\):`);
      if (who === 'telegram') {
        const question = await lan.waitFor(/Chó nhà số mấy ạ\?/);
        expect((await lan.pressOn(question, 'Trả lời')).text).toMatch(ASK);
        expect((await lan.type('Nhà số 9')).text).toMatch(new RegExp(`Đã gửi câu trả lời của bạn cho người xử lý phản ánh ${c.ref}\\.`));
      } else {
        const question = await waitForWebMessage(web, /Chó nhà số mấy ạ\?/, 15_000);
        expect(texts(await web.choose(question.choices![0]![0]!.id))).toMatch(ASK);
        expect(texts(await web.say('9'))).toMatch(/Đã gửi câu trả lời của bạn/);
      }
      const thread = await t.app.db.caseMessage.findMany({ where: { caseId: c.id, fromReporter: true } });
      expect(thread.map((m) => m.text)).toEqual([who === 'telegram' ? 'Nhà số 9' : '9']);
    }
    // The list of one's reports has a way back (on Zalo it was a dead end).
    const list = await web.say('/myreports');
    expect(list.at(-1)!.choices!.flat().map((c) => c.label).at(-1)).toBe('⬅️ Về menu chính');
  }, 150_000);
});
