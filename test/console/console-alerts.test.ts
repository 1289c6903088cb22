/**
 * Alerts in the console: the sender's history, a live page with the fan-out's progress and
 * counts per channel (refreshed by a fragment), re-ping, update and cancel through the alert
 * service, reaching residents on Telegram; nobody but the sender (or an admin) opens it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onboardTelegram } from '../helpers/onboarding.js';
import { personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { linkIn, openLink } from './console-helpers.js';

const TOKEN = '123456789:AAE-fake_telegram_token_console_a';
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('alerts in the console', () => {
  it('follows an alert live, re-pings, updates and cancels it; residents on Telegram see each', { timeout: 180_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const leaderTg = await onboardTelegram(tg, 6_600_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6600001');
    const otherTg = await onboardTelegram(tg, 6_600_002, { firstName: 'Tổ phó' });
    const other = await personOf(app, 'telegram', '6600002');
    const r1 = await onboardTelegram(tg, 6_600_011, { firstName: 'Dân 1' });
    const r2 = await onboardTelegram(tg, 6_600_012, { firstName: 'Dân 2' });
    await app.db.membership.updateMany({ where: { personId: { in: [leader.id, other.id] } }, data: { role: 'leader' } });
    const group = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' } });

    const desk = await openLink(t, linkIn((await leaderTg.command('/console')).text));
    // Compose: bad input is refused beside each field and nothing is sent.
    let compose = await desk.get('/console/alerts/new');
    expect(compose.status).toBe(200);
    const bad = await desk.post('/console/alerts/new', { csrf: desk.csrfOf(compose.html), step: 'preview', headline: 'x'.repeat(121), text: '', expiry: '6h' });
    expect(bad.status).toBe(422);
    expect(bad.html).toMatch(/id="a-groupIds-error" role="alert">Bạn cần chọn ít nhất một (tổ dân phố|khu dân cư)/);
    expect(bad.html).toMatch(/id="a-category-error" role="alert">Bạn chưa chọn.</);
    expect(bad.html).toMatch(/id="a-headline-error" role="alert">Nội dung dài quá 120 ký tự.</);
    expect(bad.html).toMatch(/id="a-text-error" role="alert">Bạn chưa nhập nội dung.</);
    const foreignGroup = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'DBC345' } });
    const fields = { group: group.id, category: 'fire', severity: 'severe', headline: 'Cháy kho gần chợ', text: 'Khói lớn ở kho cuối ngõ 5.', instruction: '', expiry: '1h' };
    const notMine = await desk.post('/console/alerts/new', { csrf: desk.csrfOf(compose.html), step: 'send', ...fields, group: foreignGroup.id });
    expect(notMine.status).toBe(422);
    expect(await app.db.alert.count()).toBe(0);
    // Preview exactly as residents read it, then send (a second press of the same confirm sends nothing more).
    compose = await desk.post('/console/alerts/new', { csrf: desk.csrfOf(compose.html), step: 'preview', ...fields });
    expect(compose.status).toBe(200);
    expect(compose.html).toMatch(/<pre class="preview">[^<]*Cháy kho gần chợ[^<]*Khói lớn ở kho cuối ngõ 5\./);
    expect(await app.db.alert.count()).toBe(0);
    const draftKey = /name="draftKey" value="([a-f0-9]{32})"/.exec(compose.html)![1]!;
    const since = tg.calls.length;
    const sent = await desk.post('/console/alerts/new', { csrf: desk.csrfOf(compose.html), step: 'send', draftKey, ...fields });
    expect(sent.status).toBe(303);
    const again = await desk.post('/console/alerts/new', { csrf: desk.csrfOf(compose.html), step: 'send', draftKey, ...fields });
    expect(again.location).toBe(sent.location);
    expect(await app.db.alert.count()).toBe(1);
    const alert = await app.db.alert.findFirstOrThrow();
    expect(sent.location).toBe(`/console/alerts/${alert.id}`);
    const recipients = await app.db.delivery.count({ where: { alertId: alert.id, kind: 'alert' } });
    expect(recipients).toBeGreaterThanOrEqual(2);
    await r1.waitFor(/Cháy kho gần chợ/, since);
    await r2.waitFor(/Cháy kho gần chợ/, since);
    await r1.press(/Đã nhận/);
    await vi.waitFor(async () => expect(await app.db.delivery.count({ where: { alertId: alert.id, kind: 'alert', status: { in: ['queued', 'sending'] } } })).toBe(0), { timeout: 15_000 });

    const list = await desk.get('/console/alerts');
    expect(list.html).toContain(`href="/console/alerts/${alert.id}">Cháy kho gần chợ</a>`);
    let page = await desk.get(`/console/alerts/${alert.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(new RegExp(`<progress id="fanout" max="${recipients}" value="${recipients}"`));
    expect(page.html).toContain(`Đã gửi ${recipients}/${recipients} (100%)`);
    expect(page.html).toMatch(/<dd data-count="received">1<\/dd>/);
    expect(page.html).toMatch(/<th scope="row">Telegram<\/th><td>\d+<\/td>/);
    expect(page.html).toContain('<script src="/console/assets/alert-live.js" defer></script>');
    const fragment = await desk.get(`/console/alerts/${alert.id}/counts`);
    expect(fragment.html).toMatch(/^<progress id="fanout"/);

    // Another leader of the same group did not send it: refused.
    const otherDesk = await openLink(t, linkIn((await otherTg.command('/console')).text));
    expect((await otherDesk.get(`/console/alerts/${alert.id}`)).status).toBe(403);
    expect((await otherDesk.get(`/console/alerts/${alert.id}/counts`)).status).toBe(403);
    expect((await otherDesk.get('/console/alerts')).html).not.toContain(alert.id);

    // Re-ping: the one who has not answered is reminded (not the one who did).
    let mark = tg.calls.length;
    let res = await desk.post(`/console/alerts/${alert.id}/act`, { csrf: desk.csrfOf(page.html), action: 'reping' });
    expect(res.status).toBe(303);
    await r2.waitFor(/Cháy kho gần chợ/, mark);

    // An empty update is refused beside its field; a real one reaches both.
    page = await desk.get(`/console/alerts/${alert.id}`);
    res = await desk.post(`/console/alerts/${alert.id}/act`, { csrf: desk.csrfOf(page.html), action: 'update', text: ' ' });
    expect(res.status).toBe(422);
    expect(res.html).toMatch(/id="alert-update-error" role="alert">Bạn chưa nhập nội dung.</);
    mark = tg.calls.length;
    res = await desk.post(`/console/alerts/${alert.id}/act`, { csrf: desk.csrfOf(page.html), action: 'update', text: 'Lửa đã được khống chế, tránh xa khu kho.' });
    expect(res.status).toBe(303);
    await r1.waitFor(/Lửa đã được khống chế/, mark);
    await r2.waitFor(/Lửa đã được khống chế/, mark);
    expect((await desk.get(res.location!)).html).toContain('Đã gửi cập nhật tới những người đã nhận cảnh báo.');

    mark = tg.calls.length;
    res = await desk.post(`/console/alerts/${alert.id}/act`, { csrf: desk.csrfOf(page.html), action: 'cancel', text: 'Báo nhầm, không có cháy.' });
    expect(res.status).toBe(303);
    await r1.waitFor(/Báo nhầm, không có cháy/, mark);
    page = await desk.get(res.location!);
    expect(page.html).toContain('Đã hủy cảnh báo và báo cho những người đã nhận.');
    expect(page.html).toContain('không thể nhắc lại, cập nhật hay hủy nữa');
    const audit = (await app.db.auditLog.findMany({ where: { actorId: leader.id, action: { startsWith: 'console.alert.' } }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(audit).toEqual(['console.alert.send', 'console.alert.reping', 'console.alert.update', 'console.alert.cancel']);
  });
});
