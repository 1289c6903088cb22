/**
 * A case through every handler action from the console, with the reporter on Telegram seeing
 * each step as in chat; bad input is refused beside its field and saves nothing; the HTML
 * never carries anything about an anonymous reporter but "ẩn danh #ALIAS".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { Readable } from 'node:stream';
import { distinctJpeg } from '../helpers/photos.js';
import { linkIn, openLink, type ConsoleBrowser } from './console-helpers.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_c';
const REPORTER_ID = 731_946_111;
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('a case handled from the console', () => {
  it('goes through every action; the Telegram reporter sees each step; the reporter stays anonymous', { timeout: 180_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const reporterTg = await onboardTelegram(tg, REPORTER_ID, { firstName: 'Zephyrine', lastName: 'Quimbertova', username: 'zephy_secret_qb' });
    const reporter = await personOf(app, 'telegram', String(REPORTER_ID));
    await app.db.person.update({ where: { id: reporter.id }, data: { phone: '+84912738465', displayName: 'Zephyrine Quimbertova' } });
    const leaderTg = await onboardTelegram(tg, 6_300_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6300001');
    const group = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' } });

    const photoId = await app.services.media.saveUploadStream(Readable.from(distinctJpeg('console-photo')), { ownerPersonId: reporter.id });
    const filed = await app.services.cases.create(reporter.id, {
      groupId: group.id,
      photoMediaId: photoId,
      category: 'infrastructure',
      urgent: false,
      description: 'Đèn đường trước nhà số 12 hỏng <b>ba</b> hôm nay & tối om',
      latitude: 21.0333,
      longitude: 105.8142,
      anonymous: true,
    });
    const other = await app.services.cases.create(reporter.id, { groupId: group.id, category: 'other', urgent: false, description: 'Phản ánh gốc', anonymous: true });
    const c = filed.case;
    await app.db.membership.updateMany({ where: { personId: leader.id }, data: { role: 'leader' } });

    const desk: ConsoleBrowser = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    const pages: string[] = [];
    const open = async () => {
      const res = await desk.get(`/console/cases/${c.id}`);
      expect(res.status).toBe(200);
      pages.push(res.html);
      return res.html;
    };
    let since = tg.calls.length;
    /** Posts an action and checks it redirected back with its "done" note. */
    const act = async (action: string, text?: string) => {
      const csrf = desk.csrfOf(await open());
      const res = await desk.post(`/console/cases/${c.id}/act`, { csrf, action, ...(text === undefined ? {} : { text }) });
      expect(res.status, `${action}: ${res.html.slice(0, 300)}`).toBe(303);
      expect(res.location).toBe(`/console/cases/${c.id}?done=${action}`);
      const after = await desk.get(res.location!);
      pages.push(after.html);
      return after.html;
    };
    const reporterSees = async (pattern: RegExp) => {
      await reporterTg.waitFor(pattern, since);
      since = tg.calls.length;
    };

    let html = await open();
    expect(html).toContain(`ẩn danh #${c.alias}`);
    expect(html).toContain('Đèn đường trước nhà số 12 hỏng &lt;b&gt;ba&lt;/b&gt; hôm nay &amp; tối om');
    expect(html).toContain('https://www.openstreetmap.org/?mlat=21.0333&amp;mlon=105.8142');
    // The photo through a short-lived signed link (the media service's), served as an image.
    const src = /<img src="(\/media\/[^"]+)" alt="Ảnh kèm phản ánh/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(src).toMatch(new RegExp(`^/media/${photoId}\\?exp=\\d+&sig=`));
    const photo = await fetch(t.baseUrl + src!);
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(`${t.baseUrl}/media/${photoId}`)).status).toBe(404);
    for (const label of ['Tiếp nhận', 'Hỏi', 'Ghi chú nội bộ', 'Đã xử lý xong', 'Đánh dấu trùng', 'Chuyển cấp trên']) expect(html).toContain(label);

    html = await act('acknowledge');
    expect(html).toContain('Đã tiếp nhận. Người phản ánh đã được báo.');
    await reporterSees(new RegExp(`Phản ánh ${c.ref} của bạn đã được tiếp nhận`));

    // An empty question: refused beside its field, nothing saved.
    const messagesBefore = await app.db.caseMessage.count({ where: { caseId: c.id } });
    const empty = await desk.post(`/console/cases/${c.id}/act`, { csrf: desk.csrfOf(html), action: 'ask', text: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.html).toMatch(/<textarea id="text-ask"[^>]*aria-invalid="true" aria-describedby="text-ask-error"/);
    expect(empty.html).toMatch(/<p class="field-error" id="text-ask-error" role="alert">Bạn chưa nhập nội dung.<\/p>/);
    const tooLong = await desk.post(`/console/cases/${c.id}/act`, { csrf: desk.csrfOf(html), action: 'note', text: 'x'.repeat(2001) });
    expect(tooLong.status).toBe(422);
    expect(tooLong.html).toContain('Nội dung dài quá 2000 ký tự.');
    expect(await app.db.caseMessage.count({ where: { caseId: c.id } })).toBe(messagesBefore);
    // A form without the session's CSRF token changes nothing.
    expect((await desk.post(`/console/cases/${c.id}/act`, { action: 'resolve', text: 'xong' })).status).toBe(403);
    expect((await app.db.case.findUniqueOrThrow({ where: { id: c.id } })).status).toBe('acknowledged');

    await act('ask', 'Đèn hỏng từ mấy giờ?');
    await reporterSees(/Người xử lý phản ánh .* nhắn:\n"Đèn hỏng từ mấy giờ\?"/);
    await reporterTg.press('Trả lời');
    await reporterTg.type('Từ 19 giờ tối qua');
    html = await open();
    expect(html).toContain(`ẩn danh #${c.alias}`);
    expect(html).toContain('Từ 19 giờ tối qua');

    html = await act('note', 'Đã báo điện lực phường');
    expect(html).toContain('Đã lưu ghi chú nội bộ.');
    expect(html).toMatch(/<li class="internal"><p class="who">🔒 Ghi chú nội bộ/);

    await act('resolve', 'Điện lực đã thay bóng đèn');
    await reporterSees(new RegExp(`Phản ánh ${c.ref} đã được xử lý:\\n"Điện lực đã thay bóng đèn"`));
    html = await act('reopen');
    await reporterSees(new RegExp(`Phản ánh ${c.ref} đã được mở lại`));

    // A duplicate of a case that does not exist: refused beside the field.
    const bad = await desk.post(`/console/cases/${c.id}/act`, { csrf: desk.csrfOf(html), action: 'duplicate', text: 'PA-ZZZZ' });
    expect(bad.status).toBe(409);
    expect(bad.html).toMatch(/id="text-duplicate-error" role="alert">[^<]*PA-ZZZZ/);
    await act('duplicate', other.case.ref.toLowerCase());
    await reporterSees(new RegExp(`Phản ánh ${c.ref} trùng với phản ánh ${other.case.ref}`));
    await act('reopen');
    await reporterSees(new RegExp(`Phản ánh ${c.ref} đã được mở lại`));
    html = await act('escalate');
    await reporterSees(new RegExp(`Phản ánh ${c.ref} đã được chuyển cho Công an phường`));
    expect(html).toMatch(/Công an phường/);

    const audit = (await app.db.auditLog.findMany({ where: { actorId: leader.id, action: { startsWith: 'console.case.' } }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(audit).toEqual(['acknowledge', 'ask', 'note', 'resolve', 'reopen', 'duplicate', 'reopen', 'escalate'].map((a) => `console.case.${a}`));

    // Anonymity: nothing about the reporter in any page the console served.
    pages.push((await desk.get('/console/cases?status=all')).html);
    const accounts = await app.db.channelAccount.findMany({ where: { personId: reporter.id } });
    const identifiers = ['Zephyrine', 'Quimbertova', 'zephy_secret_qb', '+84912738465', '912738465', String(REPORTER_ID), reporter.id, ...accounts.flatMap((a) => [a.id, a.externalId, a.chatId])];
    for (const page of pages) for (const id of identifiers) expect(page, `a console page carries ${id}`).not.toContain(id);
    expect(pages.some((p) => p.includes(`ẩn danh #${c.alias}`))).toBe(true);
  });
});
