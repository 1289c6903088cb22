/**
 * The web chat page in a real (headless) Chromium on a phone-sized screen, against the real
 * service: what a resident sees and taps, not only the JSON API behind it.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`web-browser.test.ts skipped: ${CHROMIUM} does not exist. Install Debian's chromium (apt-get install chromium) to run it.`);
}

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'vi-VN' };

let browser: Browser;
let app: TestApp | undefined;
let context: BrowserContext | undefined;

describe.skipIf(!haveChromium)(
  haveChromium ? 'web chat page in a phone browser' : `web chat page in a phone browser (SKIPPED: ${CHROMIUM} is not installed)`,
  () => {
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });
    afterEach(async () => {
      await context?.close();
      context = undefined;
      await app?.dispose();
      app = undefined;
    });

    async function openChat(): Promise<{ page: Page; errors: Error[] }> {
      app = await startTestApp();
      context = await browser.newContext(PHONE);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const errors: Error[] = [];
      page.on('pageerror', (error) => errors.push(error));
      await page.goto(`${app.baseUrl}/`);
      return { page, errors };
    }

    /** The latest bot message containing `text` (waits for it to appear). */
    const botSays = (page: Page, text: string | RegExp) => page.locator('.msg.bot', { hasText: text }).last();

    /** Waits for the bot to ask `prompt`, then taps `label` under that question. */
    async function answer(page: Page, prompt: string | RegExp, label: string) {
      await botSays(page, prompt).getByRole('button', { name: label }).tap();
      // The tap shows up as the person's own message.
      await page.locator('.msg.me', { hasText: label }).last().waitFor();
    }

    const fitsWidth = (page: Page) =>
      page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        widest: Math.max(...[...document.querySelectorAll('.msg, form, header')].map((e) => e.getBoundingClientRect().right)),
      }));

    it('speaks Vietnamese by default, onboards by taps, takes typed numbers and photos, and fits a phone', { timeout: 60_000 }, async () => {
      const { page, errors } = await openChat();

      // Vietnamese page labels before anything else happens.
      await expect(page.locator('#title').textContent()).resolves.toBe('Trợ lý tự quản khu dân cư');
      await expect(page.locator('#subtitle').textContent()).resolves.toMatch(/Hệ thống tự động/);
      await expect(page.locator('#text').getAttribute('placeholder')).resolves.toBe('Nhập tin nhắn…');
      await expect(page.locator('#send').textContent()).resolves.toBe('Gửi');
      await expect(page.locator('#photo-text').textContent()).resolves.toBe('Gửi ảnh');
      await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('vi');
      await expect(page.title()).resolves.toBe('Trợ lý tự quản khu dân cư');

      // The first visit sends /start by itself; then every step is a tap.
      await answer(page, 'trợ lý tự động', 'Tiếng Việt');
      await answer(page, 'Trước khi bắt đầu', 'Tôi đồng ý');
      await answer(page, 'Bạn sống ở tổ dân phố', 'Chọn theo tỉnh');
      await answer(page, 'Chọn tỉnh/thành phố', 'Thành phố Hà Nội');
      await answer(page, 'Chọn quận/huyện thuộc Thành phố Hà Nội', 'Quận Ba Đình');
      await answer(page, 'Chọn phường/xã thuộc Quận Ba Đình', 'Phường Kim Mã');
      await answer(page, 'Chọn tổ dân phố / khu dân cư thuộc Phường Kim Mã', 'Tổ dân phố số 1');
      await botSays(page, 'Bạn đã tham gia Tổ dân phố số 1 (Phường Kim Mã)').waitFor();
      await botSays(page, 'Bạn muốn làm gì?').getByRole('button', { name: 'Nhóm của tôi' }).waitFor();
      // /start was sent once, not once per poll.
      await expect(page.locator('.msg.bot', { hasText: 'trợ lý tự động' }).count()).resolves.toBe(1);

      // A photo through the file input reaches the server, is stored, and gets an answer.
      const notUnderstood = page.locator('.msg.bot', { hasText: 'Xin lỗi, tôi chưa hiểu' });
      await expect(notUnderstood.count()).resolves.toBe(0);
      const uploaded = page.waitForResponse((r) => r.url().includes('/api/web/photos') && r.request().method() === 'POST');
      await page.locator('#photo').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PNG });
      expect((await uploaded).status()).toBe(200);
      // (The page never reads that response's body, so Chromium does not hand it to Playwright;
      // the stored copy is found in the database instead.)
      const stored = await app!.app.db.media.findMany();
      expect(stored).toHaveLength(1);
      expect(stored[0]!.mime).toBe('image/png');
      const url = `/media/${stored[0]!.id}`;
      await page.locator('.msg.me img').last().waitFor();
      await expect(page.locator('.msg.me img').last().getAttribute('src')).resolves.toMatch(/^blob:/);
      // Outside any flow, the core says it did not understand and shows the menu again.
      await notUnderstood.last().waitFor();
      const media = await fetch(`${app!.baseUrl}${url}`);
      expect(media.status).toBe(200);
      expect(media.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await media.arrayBuffer()).equals(PNG)).toBe(true);

      // A number typed in the text box and sent picks from the menu shown last: "my groups".
      const menuLabels = await botSays(page, 'Bạn muốn làm gì?').locator('.choices button').allTextContents();
      const number = String(menuLabels.findIndex((label) => label.includes('Nhóm của tôi')) + 1);
      expect(Number(number)).toBeGreaterThan(0);
      await page.locator('#text').fill(number);
      await page.locator('#send').tap();
      await page.locator('.msg.me', { hasText: new RegExp(`^${number}$`) }).waitFor();
      await botSays(page, 'Nhóm của bạn. Chọn một nhóm').waitFor();
      await expect(botSays(page, 'Nhóm của bạn. Chọn một nhóm').textContent()).resolves.toContain('Tổ dân phố số 1 (Phường Kim Mã)');
      await expect(page.locator('#text').inputValue()).resolves.toBe('');

      // Everything fits the phone's width: no sideways scrolling, the text box stays on screen.
      const width = await fitsWidth(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      expect(width.widest).toBeLessThanOrEqual(width.innerWidth);
      const composer = await page.locator('#composer').boundingBox();
      expect(composer).not.toBeNull();
      expect(composer!.y + composer!.height).toBeLessThanOrEqual(844 + 1);
      expect(composer!.y).toBeGreaterThan(844 / 2);

      await page.screenshot({ path: '/tmp/webchat.png' });
      expect(errors).toEqual([]);
    });

    it('switches the page to English when English is chosen, and stays English after a reload', { timeout: 60_000 }, async () => {
      const { page, errors } = await openChat();
      await answer(page, 'trợ lý tự động', 'English');
      await botSays(page, 'Before we start').getByRole('button', { name: 'I agree' }).waitFor();

      await page.waitForFunction(() => (document.getElementById('text') as HTMLInputElement).placeholder === 'Type a message…');
      await expect(page.locator('#title').textContent()).resolves.toBe('Neighbourhood self-management assistant');
      await expect(page.locator('#send').textContent()).resolves.toBe('Send');
      await expect(page.locator('#photo-text').textContent()).resolves.toBe('Send photo');
      await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('en');

      // The language belongs to the person, so a reload (same session) comes back in English
      // with the conversation so far, and does not start over.
      await page.reload();
      await botSays(page, 'Before we start').waitFor();
      await page.waitForFunction(() => (document.getElementById('text') as HTMLInputElement).placeholder === 'Type a message…');
      await expect(page.locator('#title').textContent()).resolves.toBe('Neighbourhood self-management assistant');
      await expect(page.locator('.msg.bot', { hasText: 'trợ lý tự động' }).count()).resolves.toBe(1);

      // The conversation carries on in English from the reloaded page.
      await answer(page, 'Before we start', 'I agree');
      await botSays(page, 'Which residential group do you live in?').waitFor();
      const width = await fitsWidth(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      expect(errors).toEqual([]);
    });
  },
);
