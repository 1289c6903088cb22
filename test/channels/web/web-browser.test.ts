/**
 * The web chat page in a real (headless) Chromium on a phone-sized screen, against the real
 * service: what a resident sees and taps, not only the JSON API behind it.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';
import { makeLeader } from '../../helpers/roles.js';

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

    /**
     * A phone-sized page on the chat. `errors` collects script errors and every console error,
     * which is where Chromium reports a Content-Security-Policy violation (the page also records
     * securitypolicyviolation events, read by cspViolations()).
     */
    async function openChat(options: { before?: (page: Page) => Promise<void> } = {}): Promise<{ page: Page; errors: Error[] }> {
      app = await startTestApp();
      context = await browser.newContext(PHONE);
      await context.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __csp: string[] }).__csp = seen;
        document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000); // generous: the machine may be busy with other tests
      const errors: Error[] = [];
      page.on('pageerror', (error) => errors.push(error));
      page.on('console', (message) => {
        // (A JSON page opened by a test makes Chromium ask for /favicon.ico, which does not exist.)
        // The photo refused on purpose below answers 409, which Chromium logs as well.
        const expected = message.location().url.endsWith('/favicon.ico') || /status of 409/.test(message.text());
        if (message.type() === 'error' && !expected) errors.push(new Error(`console: ${message.text()}`));
      });
      if (options.before) await options.before(page);
      await page.goto(`${app.baseUrl}/`);
      return { page, errors };
    }

    const cspViolations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

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

    it('speaks Vietnamese by default, onboards by taps, takes typed numbers and photos, and fits a phone', { timeout: 120_000 }, async () => {
      const { page, errors } = await openChat();

      // Vietnamese page labels before anything else happens.
      await expect(page.locator('#title').textContent()).resolves.toBe('Trợ lý khu dân cư tự quản');
      await expect(page.locator('#subtitle').textContent()).resolves.toMatch(/Hệ thống tự động/);
      await expect(page.locator('#text').getAttribute('placeholder')).resolves.toBe('Nhập tin nhắn…');
      await expect(page.locator('#send').textContent()).resolves.toBe('Gửi');
      await expect(page.locator('#photo-text').textContent()).resolves.toBe('Gửi ảnh');
      await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe('vi');
      await expect(page.title()).resolves.toBe('Trợ lý khu dân cư tự quản');

      // The first visit sends /start by itself; then every step is a tap.
      await answer(page, 'trợ lý tự động', 'Tiếng Việt');
      await answer(page, 'Trước khi bắt đầu', 'Tôi đồng ý');
      await answer(page, 'Bạn sống ở khu dân cư nào', 'Chọn theo tỉnh');
      await answer(page, 'Chọn tỉnh/thành phố', 'Thành phố Hà Nội');
      await answer(page, 'Chọn phường thuộc Thành phố Hà Nội', 'Phường Giảng Võ');
      await answer(page, 'Chọn khu dân cư (tổ dân phố, khu phố, thôn) thuộc Phường Giảng Võ', 'Tổ dân phố số 1');
      await answer(page, 'Bạn có muốn tổ trưởng, tổ phó Tổ dân phố số 1 thấy tên của bạn không?', 'Không, giữ kín');
      await botSays(page, 'Bạn đã tham gia Tổ dân phố số 1 (Phường Giảng Võ)').waitFor();
      await botSays(page, 'Bạn muốn làm gì?').getByRole('button', { name: 'Khu dân cư của tôi' }).waitFor();
      // /start was sent once, not once per poll.
      await expect(page.locator('.msg.bot', { hasText: 'trợ lý tự động' }).count()).resolves.toBe(1);

      // A photo outside any step that asks for one is refused, and the page says why (not "offline").
      const refused = page.waitForResponse((r) => r.url().includes('/api/web/photos') && r.request().method() === 'POST');
      await page.locator('#photo').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PNG });
      expect((await refused).status()).toBe(409);
      await botSays(page, 'Bạn chỉ gửi ảnh khi hệ thống hỏi').waitFor();
      expect(await app!.app.db.media.count()).toBe(0);
      await expect(page.locator('#status').isHidden()).resolves.toBe(true);

      // A number typed in the text box and sent picks from the menu shown last: "my groups".
      const menuLabels = await botSays(page, 'Bạn muốn làm gì?').locator('.choices button').allTextContents();
      const number = String(menuLabels.findIndex((label) => label.includes('Khu dân cư của tôi')) + 1);
      expect(Number(number)).toBeGreaterThan(0);
      await page.locator('#text').fill(number);
      await page.locator('#send').tap();
      await page.locator('.msg.me', { hasText: new RegExp(`^${number}$`) }).waitFor();
      await botSays(page, 'Khu dân cư của bạn. Chọn một khu').waitFor();
      await expect(botSays(page, 'Khu dân cư của bạn. Chọn một khu').textContent()).resolves.toContain('Tổ dân phố số 1 (Phường Giảng Võ)');
      await expect(page.locator('#text').inputValue()).resolves.toBe('');

      // At the report's photo step a photo through the file input is stored and acknowledged.
      await page.locator('#text').fill('/report');
      await page.locator('#send').tap();
      await answer(page, 'Có ai đang gặp nguy hiểm', 'Không');
      await botSays(page, 'Sự việc thuộc loại nào').locator('button', { hasText: 'ồn ào' }).first().tap();
      await page.locator('#text').fill('Karaoke rất to sau 23h');
      await page.locator('#send').tap();
      await botSays(page, 'ảnh chụp').waitFor();
      const uploaded = page.waitForResponse((r) => r.url().includes('/api/web/photos') && r.request().method() === 'POST');
      await page.locator('#photo').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PNG });
      expect((await uploaded).status()).toBe(200);
      expect(new URL((await uploaded).url()).search).not.toMatch(/session/);
      await botSays(page, 'Đã nhận ảnh').waitFor();
      expect(await app!.app.db.media.count()).toBe(1);
      await expect(page.locator('.msg.me img').last().getAttribute('src')).resolves.toMatch(/^blob:/);

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
      await expect(cspViolations(page)).resolves.toEqual([]);
      // The page's session is an HttpOnly cookie: nothing in localStorage, nothing readable by script.
      await expect(page.evaluate(() => ({ stored: localStorage.length, cookie: document.cookie }))).resolves.toEqual({ stored: 0, cookie: '' });
      const cookies = await context!.cookies();
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['chat_session', true, 'Strict']]);
    });

    /** The buttons of a message: their labels, whether they can be tapped, and which one was picked. */
    const buttonsOf = (message: Locator) =>
      message.locator('.choices button').evaluateAll((buttons) =>
        buttons.map((b) => ({ label: b.textContent ?? '', enabled: !(b as HTMLButtonElement).disabled, picked: b.classList.contains('picked') })),
      );
    /** The first words of every bot message that still has a button one can tap. */
    const tappable = (page: Page) =>
      page.locator('.msg.bot').evaluateAll((messages) => messages.filter((m) => m.querySelector('.choices button:enabled')).map((m) => (m.textContent ?? '').slice(0, 40)));
    /** Where a message sits in the scrolling conversation, against the visible part of it. */
    const placeOf = (page: Page, message: Locator) =>
      message.evaluate((m) => {
        const log = document.getElementById('log')!.getBoundingClientRect();
        const box = m.getBoundingClientRect();
        const main = document.getElementById('log')!;
        return { top: box.top - log.top, bottom: box.bottom - log.top, visible: log.height, atBottom: main.scrollTop + main.clientHeight >= main.scrollHeight - 2 };
      });

    it('on a phone: emergency numbers are tel: links, an alert stands out, answered and older buttons are off, a long text shows from its start', { timeout: 180_000 }, async () => {
      const { page, errors } = await openChat();

      // The language question is answered by a tap: its buttons are off at once, the one picked stays marked.
      await answer(page, 'trợ lý tự động', 'Tiếng Việt');
      const language = await buttonsOf(botSays(page, 'trợ lý tự động'));
      expect(language.map((b) => b.enabled)).toEqual(language.map(() => false));
      expect(language.filter((b) => b.picked).map((b) => b.label)).toEqual([expect.stringContaining('Tiếng Việt')]);
      await answer(page, 'Trước khi bắt đầu', 'Tôi đồng ý');
      await answer(page, /Bạn sống ở (khu dân cư|tổ dân phố)/, 'Nhập mã mời');
      await page.locator('#text').fill('KMA234');
      await page.locator('#send').tap();
      await answer(page, 'thấy tên của bạn không?', 'Không, giữ kín');
      await botSays(page, 'Bạn đã tham gia').waitFor();
      const menu = botSays(page, 'Bạn muốn làm gì?');
      await menu.locator('.choices button').first().waitFor();

      // Only the question asked now can be answered by a tap: every earlier one is off, so an old
      // button can no longer be taken as an answer to it ("choose an item from the list").
      expect(await tappable(page)).toEqual([expect.stringMatching(/^Bạn muốn làm gì\?/)]);
      const placeHow = await buttonsOf(botSays(page, /Bạn sống ở (khu dân cư|tổ dân phố)/));
      expect(placeHow.every((b) => !b.enabled)).toBe(true);
      expect(placeHow.filter((b) => b.picked).map((b) => b.label)).toEqual([expect.stringContaining('Nhập mã mời')]);
      // A question answered by typing instead (the invite code) is off too once the next one comes.
      expect((await buttonsOf(botSays(page, 'gõ mã mời'))).every((b) => !b.enabled)).toBe(true);

      // Help: a long text with the emergency numbers, which are links that start a call. The page
      // stops at the start of the new answer, not at the bottom past it.
      await page.locator('#text').fill('/help');
      await page.locator('#send').tap();
      const help = botSays(page, 'Khẩn cấp: gọi 113');
      await help.waitFor();
      await botSays(page, 'Bạn muốn làm gì?').locator('.choices button:enabled').first().waitFor();
      const links = help.locator('a.tel');
      await expect(links.evaluateAll((as) => as.slice(0, 4).map((a) => [a.textContent, a.getAttribute('href')]))).resolves.toEqual([
        ['113', 'tel:113'],
        ['114', 'tel:114'],
        ['115', 'tel:115'],
        ['112', 'tel:112'],
      ]);
      // The text reads as before: only the numbers became links.
      await expect(help.textContent()).resolves.toMatch(/^🚨 Khẩn cấp: gọi 113 \(công an\), 114 \(cứu hỏa, cứu nạn\), 115 \(cấp cứu\), 112 \(tìm kiếm cứu nạn\)\./);
      const helpPlace = await placeOf(page, help);
      expect(helpPlace.top).toBeGreaterThanOrEqual(0);
      expect(helpPlace.top).toBeLessThan(helpPlace.visible / 2);
      await page.screenshot({ path: 'test-results/web-phone-help.png' });
      await expect(tappable(page)).resolves.toEqual([expect.stringMatching(/^Bạn muốn làm gì\?/)]);

      // An alert from the group's leader, longer than the screen: it has a red frame, ordinary
      // messages do not, and the page shows it from its first line (the headline), not its buttons.
      const account = await app!.app.db.channelAccount.findFirstOrThrow({ where: { channel: 'web' } });
      const membership = await app!.app.db.membership.findFirstOrThrow({ where: { personId: account.personId }, include: { group: true } });
      const leader = await app!.app.db.person.create({ data: { locale: 'vi', onboardedAt: new Date() } });
      await makeLeader(app!.app, leader.id, membership.group.code);
      const story = 'Có cháy lớn ở chợ đầu hẻm, khói bay về phía các nhà số lẻ. Bà con đóng cửa sổ, tránh xa khu vực chợ. ';
      await app!.app.services.alerts.send(leader.id, {
        groupIds: [membership.groupId],
        category: 'fire',
        severity: 'extreme',
        headline: 'Cháy chợ đầu hẻm',
        text: story.repeat(9).trim(),
        instruction: 'Gọi 114 nếu thấy lửa lan sang nhà bạn.',
        expiresInMs: 3_600_000,
        exercise: false,
      });
      const alert = page.locator('.msg.bot.alert', { hasText: 'Cháy chợ đầu hẻm' });
      await alert.waitFor();
      const frame = await alert.evaluate((m) => ({ border: getComputedStyle(m).borderLeftColor, width: getComputedStyle(m).borderLeftWidth, background: getComputedStyle(m).backgroundColor }));
      expect(frame).toEqual({ border: 'rgb(198, 40, 40)', width: '6px', background: 'rgb(255, 244, 242)' });
      const ordinary = await help.evaluate((m) => ({ border: getComputedStyle(m).borderLeftWidth, background: getComputedStyle(m).backgroundColor }));
      expect(ordinary).toEqual({ border: '0px', background: 'rgb(255, 255, 255)' });
      await expect(page.locator('.msg.alert').count()).resolves.toBe(1);
      await expect(alert.locator('a.tel').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).resolves.toContain('tel:114');
      const alertPlace = await placeOf(page, alert);
      expect(alertPlace.bottom - alertPlace.top).toBeGreaterThan(alertPlace.visible); // longer than the screen
      expect(alertPlace.top).toBeGreaterThanOrEqual(0);
      expect(alertPlace.top).toBeLessThanOrEqual(16); // its first line at the top, not scrolled past
      expect(alertPlace.atBottom).toBe(false);
      await expect(alert.textContent()).resolves.toMatch(/CẢNH BÁO/);
      await page.screenshot({ path: 'test-results/web-phone-alert.png' });

      // An alert's buttons work whenever pressed: a newer question does not turn them off, and
      // after an answer they stay, with the answer marked.
      expect((await buttonsOf(alert)).every((b) => b.enabled)).toBe(true);
      await alert.getByRole('button', { name: 'Đã nhận' }).tap();
      await botSays(page, 'Đã ghi nhận câu trả lời của bạn').waitFor();
      const answered = await buttonsOf(alert);
      expect(answered.every((b) => b.enabled)).toBe(true);
      expect(answered.filter((b) => b.picked).map((b) => b.label)).toEqual([expect.stringContaining('Đã nhận')]);
      const menus = await page.locator('.msg.bot', { hasText: 'Bạn muốn làm gì?' }).count();
      await page.locator('#text').fill('/menu');
      await page.locator('#send').tap();
      await page.locator('.msg.bot', { hasText: 'Bạn muốn làm gì?' }).nth(menus).locator('.choices button').first().waitFor();
      expect((await buttonsOf(alert)).every((b) => b.enabled)).toBe(true);
      await expect(tappable(page)).resolves.toEqual([expect.stringMatching(/CẢNH BÁO/), expect.stringMatching(/^Bạn muốn làm gì\?/)]);
      await expect(botSays(page, 'Khẩn cấp: gọi 113').locator('a.tel').count()).resolves.toBeGreaterThanOrEqual(4);

      // Still fits the phone's width, with the alert's frame.
      const width = await fitsWidth(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      expect(width.widest).toBeLessThanOrEqual(width.innerWidth);
      await page.screenshot({ path: 'test-results/web-phone-after.png' });
      expect(errors).toEqual([]);
      await expect(cspViolations(page)).resolves.toEqual([]);
    });

    it('switches the page to English when English is chosen, and stays English after a reload', { timeout: 120_000 }, async () => {
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
      await botSays(page, /Which (residential group|neighbourhood).*do you live in/).waitFor();
      const width = await fitsWidth(page);
      expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
      expect(errors).toEqual([]);
      await expect(cspViolations(page)).resolves.toEqual([]);
    });

    it('an old page\'s localStorage id continues its conversation once, then is forgotten', { timeout: 120_000 }, async () => {
      const legacy = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const { page, errors } = await openChat({
        async before(page) {
          // What the old service left: a web account keyed by the page's own id, and its replies.
          const person = await app!.app.db.person.create({
            data: { locale: 'vi', onboardedAt: new Date(), accounts: { create: { channel: 'web', externalId: legacy, chatId: legacy } } },
          });
          expect(person.id).toBeTruthy();
          await app!.app.db.webMessage.create({ data: { session: legacy, payload: JSON.stringify({ text: 'Tin nhắn cũ trước khi nâng cấp' }) } });
          // The old page stored its id in localStorage on this origin.
          await page.goto(`${app!.baseUrl}/healthz`);
          await page.evaluate((id) => localStorage.setItem('chat-session', id), legacy);
        },
      });
      await botSays(page, 'Tin nhắn cũ trước khi nâng cấp').waitFor();
      await page.waitForFunction(() => localStorage.getItem('chat-session') === null);
      // The old conversation is there, so the page did not start over with /start.
      await expect(page.locator('.msg.bot', { hasText: 'trợ lý tự động' }).count()).resolves.toBe(0);
      const account = await app!.app.db.channelAccount.findFirstOrThrow({ where: { channel: 'web' } });
      expect(account.externalId).toMatch(/^w[a-z2-7]{16}$/);
      // After a reload (cookie only) it is still the same conversation.
      await page.reload();
      await botSays(page, 'Tin nhắn cũ trước khi nâng cấp').waitFor();
      expect(await app!.app.db.channelAccount.count({ where: { channel: 'web' } })).toBe(1);
      expect(errors).toEqual([]);
      await expect(cspViolations(page)).resolves.toEqual([]);
    });

    it('refuses to be framed by another site', { timeout: 120_000 }, async () => {
      const { page } = await openChat();
      await botSays(page, 'trợ lý tự động').waitFor();
      // Another origin (a data: page has an opaque origin) frames the chat: Chromium refuses to show it.
      const framer = await context!.newPage();
      const refused = new Promise<string>((resolve) => framer.on('console', (m) => { if (/frame/i.test(m.text())) resolve(m.text()); }));
      await framer.setContent(`<iframe id="chat" src="${app!.baseUrl}/" width="300" height="400"></iframe>`);
      await expect(refused).resolves.toMatch(/frame-ancestors|X-Frame-Options|Refused to (display|frame)/);
      const frame = framer.frames().find((f) => f !== framer.mainFrame());
      const title = frame ? await frame.locator('#title').count().catch(() => 0) : 0;
      expect(title).toBe(0);
    });
  },
);
