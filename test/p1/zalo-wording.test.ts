/**
 * Zalo has no buttons: a text that tells a Zalo user to "bấm" (press/tap) something cannot be
 * followed (issue 11 items 4 and 6). This walks the flows a resident and a leader use on Zalo,
 * through the fake Zalo server and the real service, and fails when any message says "bấm",
 * "tap" or "press". It also checks the Zalo wording of the help and of a wrong answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardZalo } from '../helpers/onboarding.js';
import { offered } from '../helpers/cases.js';
import { zaloTo, zaloText } from '../helpers/zalo-user.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PRESS = /bấm|\btap\b|\bpress/i;

describe('Zalo wording: no text asks a Zalo user to press anything', () => {
  it('a resident and a leader walk help, report, my reports, groups, settings, an alert and a question on Zalo', async () => {
    const { zalo, t } = await startWorld('700222:zalo-wording-token', cleanups);
    const resident = await onboardZalo(zalo, 'zalo-words-res', 'Bà Năm');
    const leader = await onboardZalo(zalo, 'zalo-words-lead', 'Tổ trưởng');
    const leaderId = (await personOf(t.app, 'zalo', 'zalo-words-lead')).id;
    await makeLeader(t.app, leaderId, 'HN-GV-01');
    await makeLeader(t.app, leaderId, 'HN-GV-02');

    // Help: emergency numbers first, then how to answer on Zalo.
    const help = await resident.type('/help');
    expect(help.text).toMatch(/^🚨 Khẩn cấp: gọi 113 \(công an\), 114 \(cứu hỏa, cứu nạn\), 115 \(cấp cứu\), 112 \(tìm kiếm cứu nạn\)\./);
    expect(help.text).toMatch(/Cách dùng: gõ số thứ tự của mục bạn chọn \(ví dụ: 1\)\./);
    expect(help.text).not.toMatch(/\/cases|\/alert/); // a resident's help lists a resident's commands
    expect((await leader.type('/help')).text).toMatch(/\/cases — xử lý phản ánh\n\/alert — gửi cảnh báo/);

    // A wrong answer in a choice step.
    await resident.type('/lang');
    expect((await resident.type('tiếng gì cũng được')).text).toMatch(/gõ số thứ tự của mục đó \(ví dụ: 1\)/);
    await resident.type('1');

    // The whole report.
    await resident.type('/report');
    await resident.choose('Không');
    await resident.choose('ồn ào');
    await resident.type('Hát karaoke đến 1 giờ sáng');
    await resident.type('bỏ qua');
    await resident.type('Nhà số 7 ngõ 3');
    await resident.choose('Ẩn danh');
    const sent = await resident.choose('Gửi phản ánh');
    const ref = /PA-[A-Z0-9]{4,5}/.exec(sent.text)![0];

    // The leader asks; the resident reads the question and answers with a number as text.
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    await t.app.services.cases.ask(leaderId, c.id, 'Nhà số mấy ạ?');
    await resident.waitFor(/Muốn trả lời, chọn Trả lời \(gõ số 1\)/);
    await offered(t, 'zalo', 'zalo-words-res', `c:${c.id}:reply`); // offered as the worker sends it
    await resident.type('1');
    await resident.type('12');
    expect((await t.app.db.caseMessage.findMany({ where: { caseId: c.id, fromReporter: true } })).map((m) => m.text)).toEqual(['12']);

    // My reports, groups, settings and the phone step.
    await resident.type('/myreports');
    await resident.choose(ref);
    await resident.type('/groups');
    await resident.choose('Tổ dân phố số 1');
    await resident.type('/settings');
    await resident.type('/menu');

    // The leader writes an alert to one of two groups, with the instruction skipped.
    await leader.type('/alert');
    await leader.choose('Tổ dân phố số 1');
    await leader.choose('Xong');
    await leader.choose('An ninh');
    await leader.choose('Trung bình');
    await leader.type('Trộm xe đạp');
    await leader.type('Khóa xe cẩn thận.');
    await leader.type('bo qua');
    await leader.type('2 tiếng'); // "tiếng" is understood
    await leader.choose('Cảnh báo thật');
    const preview = await leader.choose('Gửi cảnh báo');
    expect(preview.text).toMatch(/Đã bắt đầu gửi cảnh báo/);
    const alert = await t.app.db.alert.findFirstOrThrow({ where: { headline: 'Trộm xe đạp' } });
    expect(alert.instruction).toBeNull();
    expect(alert.expiresAt.getTime() - alert.createdAt.getTime()).toBe(2 * 3_600_000);
    await resident.waitFor(/Trộm xe đạp/);

    // Nothing any of them read on Zalo asks them to press a button.
    for (const id of ['zalo-words-res', 'zalo-words-lead']) {
      const texts = zalo.sent.filter(zaloTo(id)).map(zaloText);
      expect(texts.length).toBeGreaterThan(10);
      expect(texts.filter((x) => PRESS.test(x)), id).toEqual([]);
    }
  }, 240_000);
});
