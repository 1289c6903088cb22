/**
 * The console in a real (headless) Chromium, at a desk (1280 px) and on a phone (390 px):
 * sign in with the bot's link, the queue, one case action reaching the reporter on Telegram,
 * a consultation composed and sent, a forum's grouped opinions and a mediation request.
 * Screenshots go to test-results/console/ for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import ExcelJS from 'exceljs';
import { onboardTelegram } from '../helpers/onboarding.js';
import { personOf } from '../helpers/roles.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { linkIn, onServer } from './console-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'console');
const TOKEN = '123456789:AAE-fake_telegram_token_console_b';

let browser: Browser;
let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe.skipIf(!haveChromium)(haveChromium ? 'console in Chromium' : `console in Chromium (SKIPPED: ${CHROMIUM} is not installed)`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in from the bot\'s link, shows the queue and handles a case at 1280 and 390 px', { timeout: 300_000 }, async () => {
    const { tg, t } = await startWorld(TOKEN, cleanups);
    const app = t.app;
    const reporterTg = await onboardTelegram(tg, 6_400_009, { firstName: 'Hoa', lastName: 'Bí Mật' });
    const reporter = await personOf(app, 'telegram', '6400009');
    const leaderTg = await onboardTelegram(tg, 6_400_001, { firstName: 'Tổ trưởng' });
    const leader = await personOf(app, 'telegram', '6400001');
    const group = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' } });
    const cases = [];
    for (const [i, category] of (['infrastructure', 'order', 'traffic', 'security'] as const).entries()) {
      cases.push((await app.services.cases.create(reporter.id, {
        groupId: group.id,
        category,
        urgent: category === 'security',
        description: ['Đèn đường ngõ 12 hỏng ba hôm nay, buổi tối rất tối', 'Tiếng ồn karaoke sau 23 giờ', 'Xe máy đỗ chắn lối đi chung', 'Người lạ đi thử khóa cửa các nhà'][i]!,
        latitude: i === 0 ? 21.0333 : undefined,
        longitude: i === 0 ? 105.8142 : undefined,
        anonymous: true,
      })).case);
    }
    await app.db.membership.updateMany({ where: { personId: leader.id }, data: { role: 'leader' } });
    const target = cases[0]!;
    // A forum with opinions and a mediation request (the group has no team yet: its leader acts as one).
    const { forum } = await app.services.forums.open(leader.id, { groupIds: [group.id], topic: 'Ý kiến về an ninh ngõ 12', closesAt: new Date(Date.now() + 2 * 86_400_000) });
    await app.services.forums.say(reporter.id, forum.id, 'Đèn đường ngõ 12 hỏng, buổi tối rất tối', true);
    await app.services.forums.say(reporter.id, forum.id, 'Xin sửa đèn đường ngõ 12 sớm', true);
    const { mediation } = await app.services.mediation.request(reporter.id, { groupId: group.id, subject: 'Hàng xóm để xe chắn cổng nhà tôi mỗi tối', otherDescription: 'nhà số 14 đối diện' });

    for (const [width, height, name] of [[1280, 900, 'desk'], [390, 844, 'phone']] as const) {
      const context = await browser.newContext({ viewport: { width, height }, locale: 'vi-VN', ...(width < 500 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
      cleanups.push(() => context.close());
      const page: Page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        // Script errors and CSP violations; not the 422 of the refused empty form or a missing favicon.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
      });

      const link = linkIn((await leaderTg.command('/console')).text);
      await page.goto(onServer(t, link));
      await page.getByRole('button', { name: 'Đăng nhập bàn làm việc' }).click();
      await page.waitForURL('**/console/cases');
      expect(page.url()).not.toContain('?t=');
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: 'console_session', httpOnly: true, sameSite: 'Strict', path: '/console' });

      await expect.poll(() => page.locator('table.queue tbody tr').count()).toBe(4);
      await expect.poll(() => page.locator('time.countdown').first().textContent()).toMatch(/^\d+:\d\d:\d\d$/);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `queue-${width}.png`), fullPage: true });

      // Filter by category with labelled controls, then clear.
      await page.getByLabel('Lĩnh vực').selectOption('traffic');
      await page.getByRole('button', { name: 'Lọc' }).click();
      await expect.poll(() => page.locator('table.queue tbody tr').count()).toBe(1);
      await page.getByRole('link', { name: 'Bỏ lọc' }).click();
      // The unfiltered queue is a new page: Tab is pressed on it, not on the one it replaces.
      await expect.poll(() => page.locator('table.queue tbody tr').count()).toBe(4);

      // Keyboard: the first Tab reaches the skip link.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Bỏ qua, đến nội dung chính');

      await page.getByRole('link', { name: target.ref }).click();
      await page.waitForURL(`**/console/cases/${target.id}`);
      await expect.poll(() => page.locator('dd.reporter').textContent()).toBe(`ẩn danh #${target.alias}`);
      expect(await page.getByRole('link', { name: 'Xem trên bản đồ' }).getAttribute('href')).toContain('mlat=21.0333');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `case-${width}.png`), fullPage: true });

      // Submitting an empty question shows the message beside the field.
      await page.getByRole('button', { name: 'Hỏi' }).click();
      await expect.poll(() => page.locator('#text-ask-error').textContent()).toBe('Bạn chưa nhập nội dung.');
      const since = tg.calls.length;
      const question = `Bạn thấy từ lúc nào? (${name})`;
      await page.getByLabel('Câu hỏi hoặc câu trả lời gửi người phản ánh').fill(question);
      await page.getByRole('button', { name: 'Hỏi' }).click();
      await expect.poll(() => page.locator('.notice.ok').textContent()).toBe('Đã gửi tới người phản ánh.');
      await reporterTg.waitFor(new RegExp(`Người xử lý phản ánh ${target.ref} nhắn:\\n"${question.replace(/[()?]/g, '\\$&')}"`), since);
      await expect.poll(() => page.locator('.messages li.from-handler').last().textContent()).toContain(question);
      await page.screenshot({ path: path.join(SHOTS, `case-after-ask-${width}.png`), fullPage: true });

      if (name === 'desk') {
        // An alert composed in the page, previewed, sent; its live page refreshes the counts by itself.
        await page.getByRole('link', { name: 'Cảnh báo' }).click();
        await page.getByRole('link', { name: 'Soạn cảnh báo mới' }).click();
        await page.getByLabel('Lĩnh vực').selectOption('fire');
        await page.getByLabel('Mức độ').selectOption('severe');
        await page.getByLabel('Tiêu đề').fill('Cháy kho gần chợ');
        await page.getByLabel('Nội dung', { exact: true }).fill('Khói lớn ở kho cuối ngõ 5, tránh xa khu vực.');
        await page.getByRole('button', { name: 'Xem trước' }).click();
        await expect.poll(() => page.locator('pre.preview').textContent()).toContain('Cháy kho gần chợ');
        await page.screenshot({ path: path.join(SHOTS, `alert-preview-${width}.png`), fullPage: true });
        const alertSince = tg.calls.length;
        await page.getByRole('button', { name: 'Gửi cảnh báo' }).click();
        await page.waitForURL(/\/console\/alerts\/[a-z0-9]+$/);
        await reporterTg.waitFor(/Cháy kho gần chợ/, alertSince);
        await expect.poll(async () => Number(await page.locator('#live').getAttribute('data-refreshes') ?? 0), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
        await expect.poll(async () => {
          const bar = page.locator('progress#fanout');
          return (await bar.getAttribute('value')) === (await bar.getAttribute('max'));
        }, { timeout: 15_000 }).toBe(true);
        await page.screenshot({ path: path.join(SHOTS, `alert-live-${width}.png`), fullPage: true });
      }

      // The dashboard: Chart.js (served locally) draws its three charts under the CSP.
      await page.getByRole('link', { name: 'Số liệu' }).click();
      await page.waitForURL('**/console/dashboard');
      await expect.poll(() => page.locator('body').getAttribute('data-charts-drawn')).toBe('3');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `dashboard-${width}.png`), fullPage: true });
      if (name === 'desk') {
        const download = page.waitForEvent('download');
        await page.getByRole('link', { name: 'Tải báo cáo Excel (.xlsx)' }).click();
        const file = await download;
        expect(file.suggestedFilename()).toMatch(/^bao-cao-phan-anh-\d{4}-month-\d+\.xlsx$/);
        // The workbook the browser downloaded, opened: one row per case of this month.
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.readFile((await file.path())!);
        const detail = wb.getWorksheet('Chi tiết')!;
        expect(detail.getRow(1).getCell(1).value).toBe('Mã phản ánh');
        const refs: unknown[] = [];
        detail.eachRow((row, n) => n > 1 && refs.push(row.getCell(1).value));
        expect(new Set(refs)).toEqual(new Set(cases.map((c) => c.ref)));
      }

      // The map: Leaflet (served locally) with the one pin, no tile server configured.
      await page.getByRole('link', { name: 'Bản đồ' }).click();
      await page.waitForURL('**/console/map');
      await expect.poll(() => page.locator('#map').getAttribute('data-pins-drawn')).toBe('1');
      await expect.poll(() => page.locator('#map path.leaflet-interactive').count()).toBe(1);
      await page.screenshot({ path: path.join(SHOTS, `map-${width}.png`), fullPage: true });

      // Consultations: a question composed and previewed (sent from the desk), then its results.
      await page.getByRole('link', { name: 'Lấy ý kiến', exact: true }).click();
      await page.waitForURL('**/console/polls');
      await page.getByRole('link', { name: 'Đặt câu hỏi lấy ý kiến' }).click();
      await page.getByLabel('Câu hỏi', { exact: true }).fill(`Có nên lắp camera ở ngõ 12? (${name})`);
      await page.getByLabel(/Các phương án/).fill('Có\nKhông');
      await page.getByRole('button', { name: 'Xem trước' }).click();
      await expect.poll(() => page.locator('pre.preview').textContent()).toContain(`Có nên lắp camera ở ngõ 12? (${name})`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `poll-preview-${width}.png`), fullPage: true });
      if (name === 'desk') {
        const pollSince = tg.calls.length;
        await page.getByRole('button', { name: 'Gửi câu hỏi' }).click();
        await page.waitForURL(/\/console\/polls\/[a-z0-9]+\?done=created$/);
        await reporterTg.waitFor(/Có nên lắp camera ở ngõ 12\? \(desk\)/, pollSince);
        await expect.poll(() => page.locator('table.results tbody tr').count()).toBe(2);
        await page.screenshot({ path: path.join(SHOTS, `poll-results-${width}.png`), fullPage: true });
      }

      // A forum's opinions, grouped by concern.
      await page.getByRole('link', { name: 'Diễn đàn', exact: true }).click();
      await page.getByRole('link', { name: 'Ý kiến về an ninh ngõ 12' }).click();
      await expect.poll(() => page.locator('.concern h3').first().textContent()).toContain('đèn đường');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `forum-${width}.png`), fullPage: true });

      // The mediation team's request.
      await page.getByRole('link', { name: 'Hòa giải', exact: true }).click();
      await page.getByRole('link', { name: mediation.ref }).click();
      await expect.poll(() => page.locator('p.description').first().textContent()).toBe('Hàng xóm để xe chắn cổng nhà tôi mỗi tối');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: path.join(SHOTS, `mediation-${width}.png`), fullPage: true });

      await page.getByRole('link', { name: 'Thiết bị đã đăng nhập' }).click();
      await expect.poll(() => page.locator('.devices li').count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: path.join(SHOTS, `devices-${width}.png`), fullPage: true });
      expect(problems, problems.join('\n')).toEqual([]);
    }
    expect(existsSync(path.join(SHOTS, 'queue-390.png'))).toBe(true);
    expect(existsSync(path.join(SHOTS, 'case-1280.png'))).toBe(true);
  });
});
