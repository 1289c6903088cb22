/**
 * The privacy notice (issue 11 item 4, review P2-7) lists everything the service stores, the
 * phone number too, says how to delete it without a command to type, and fits one phone screen:
 * in a real headless Chromium at 390×844, the notice and its two buttons fit in the chat area
 * without scrolling, in Vietnamese and in English. Telegram and Zalo get the same text.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import { telegramUser } from '../helpers/telegram-user.js';
import { zaloUser } from '../helpers/zalo-user.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'vi-VN' };

const STORED_VI = ['tên', 'tài khoản Zalo/Telegram', 'số điện thoại', 'ngôn ngữ', 'khu dân cư', 'phản ánh, ảnh, vị trí, câu trả lời cảnh báo'];
const STORED_EN = ['name', 'Zalo/Telegram account', 'phone number', 'language', 'residential groups', 'reports, photos, locations, answers to alerts'];

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('P2: the privacy notice lists what is stored, the phone number too, on Telegram and Zalo', () => {
  it('reads the same on Telegram and Zalo, with no command to type', async () => {
    const { tg, zalo } = await startWorld('700444:p2-privacy-token', cleanups);
    const lan = telegramUser(tg, 941_001, { firstName: 'Lan' });
    await lan.command('/start');
    const onTelegram = (await lan.type('1')).text;
    const tu = zaloUser(zalo, 'zalo-p2-privacy', 'Bác Tư');
    await tu.type('/start');
    const onZalo = (await tu.type('1')).text;
    for (const text of [onTelegram, onZalo]) {
      for (const item of STORED_VI) expect(text).toContain(item);
      expect(text).toContain('Muốn xóa: vào Cài đặt → Xóa dữ liệu của tôi.');
      expect(text).not.toContain('/delete_me');
      expect(text).toContain('người xử lý không thấy tên bạn');
    }
  }, 60_000);
});

let browser: Browser;
let app: TestApp | undefined;
let context: BrowserContext | undefined;

describe.skipIf(!haveChromium)('P2: the privacy notice fits one phone screen (web chat in Chromium, 390×844)', () => {
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

  for (const [language, button, opening, stored, agree] of [
    ['Vietnamese', 'Tiếng Việt', 'Trước khi bắt đầu', STORED_VI, 'Tôi đồng ý'],
    ['English', 'English', 'Before we start', STORED_EN, 'I agree'],
  ] as const) {
    it(`in ${language}: the whole notice and its buttons are on screen at once`, { timeout: 90_000 }, async () => {
      app = await startTestApp();
      context = await browser.newContext(PHONE);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${app.baseUrl}/`);
      await page.locator('.msg.bot', { hasText: 'trợ lý tự động' }).last().getByRole('button', { name: button }).tap();
      const notice = page.locator('.msg.bot', { hasText: opening }).last();
      await notice.getByRole('button', { name: agree }).waitFor();
      const text = (await notice.textContent()) ?? '';
      for (const item of stored) expect(text).toContain(item);
      const bubble = (await notice.boundingBox())!.height;
      const sizes = await page.evaluate(() => ({ chatArea: document.getElementById('log')!.clientHeight, screen: window.innerHeight }));
      expect(sizes.chatArea).toBeLessThan(sizes.screen);
      expect(bubble, `the notice is ${bubble}px tall; the chat area shows ${sizes.chatArea}px`).toBeLessThanOrEqual(sizes.chatArea);
    });
  }
});
