/**
 * M6 of the security review (issue 8 item 7): every answer of the HTTP server carries a strict
 * CSP (no inline script, never framed), nosniff, no referrer, X-Frame-Options, and HSTS when
 * PUBLIC_URL is https. The page keeps its UI strings in a JSON data element, not a script.
 * Also the WEB_CHAT switch: off answers 404 for the page and the API, webhooks and /healthz stay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient } from '../helpers/web-client.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/http-util.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { webhookPoster } from '../helpers/webhook.js';

let running: TestApp[] = [];
let fakes: FakeTelegram[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
  for (const f of fakes) await f.close();
  fakes = [];
});

async function start(env: Record<string, string> = {}) {
  const t = await startTestApp({ env });
  running.push(t);
  return t;
}

const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function expectHardened(res: Response, what: string, options: { hsts: boolean; csp?: boolean }) {
  if (options.csp !== false) expect(res.headers.get('content-security-policy'), what).toBe(STRICT_CSP);
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  if (options.hsts) expect(res.headers.get('strict-transport-security'), what).toBe('max-age=31536000');
  else expect(res.headers.get('strict-transport-security'), what).toBeNull();
}

describe('security headers on every answer (M6)', () => {
  it('HTML, script, style, JSON, errors and 404s carry the strict CSP, nosniff, no referrer and DENY framing', async () => {
    expect(CONTENT_SECURITY_POLICY).toBe(STRICT_CSP);
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    const answers: Array<[string, Promise<Response>]> = [
      ['page', fetch(`${t.baseUrl}/`)],
      ['script', fetch(`${t.baseUrl}/web/chat.js`)],
      ['style', fetch(`${t.baseUrl}/web/chat.css`)],
      ['messages', fetch(`${t.baseUrl}/api/web/messages?after=0`, { headers: { cookie: web.cookie! } })],
      ['401', fetch(`${t.baseUrl}/api/web/messages?after=0`)],
      ['healthz', fetch(`${t.baseUrl}/healthz`)],
      ['404', fetch(`${t.baseUrl}/no/such/page`)],
      ['media 404', fetch(`${t.baseUrl}/media/${'a'.repeat(32)}`)],
      ['webhook 404', fetch(`${t.baseUrl}/webhooks/telegram`, { method: 'POST', body: '{}' })],
      ['413', fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: web.cookie! }, body: 'x'.repeat(100_000) })],
    ];
    for (const [what, pending] of answers) {
      const res = await pending;
      // /media sets its own sandboxing CSP (helper M): every other header still applies.
      expectHardened(res, what, { hsts: false, csp: !what.startsWith('media') });
      expect(res.headers.get('content-security-policy'), what).toMatch(/default-src/);
      await res.arrayBuffer();
    }
  });

  it('the page has no inline script: its strings are a JSON data element that chat.js reads', async () => {
    const t = await start();
    const html = await (await fetch(`${t.baseUrl}/`)).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(2);
    for (const [, attrs, body] of scripts) {
      // Either an external script, or data the browser never runs.
      if (/\bsrc=/.test(attrs!)) expect(body!.trim()).toBe('');
      else expect(attrs).toMatch(/type="application\/json"/);
    }
    const data = /<script type="application\/json" id="chat-ui">([\s\S]*?)<\/script>/.exec(html)?.[1];
    const parsed = JSON.parse(data!) as { strings: Record<string, Record<string, string>>; defaultLocale: string };
    expect(parsed.defaultLocale).toBe('vi');
    expect(parsed.strings.en!.send).toBe('Send');
    expect(html).not.toMatch(/window\.CHAT_UI/);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers either
  });

  it('adds HSTS when PUBLIC_URL is https', async () => {
    const t = await start({ PUBLIC_URL: 'https://bot.example.vn' });
    for (const pathname of ['/', '/web/chat.js', '/healthz', '/nothing']) {
      const res = await fetch(`${t.baseUrl}${pathname}`);
      expectHardened(res, pathname, { hsts: true });
      await res.arrayBuffer();
    }
  });
});

describe('WEB_CHAT switch (M4)', () => {
  it('off: the page and /api/web/* answer 404, nobody is created, /healthz lists no web channel', async () => {
    const t = await start({ WEB_CHAT: 'off' });
    for (const [method, pathname] of [['GET', '/'], ['GET', '/index.html'], ['GET', '/web/chat.js'], ['POST', '/api/web/session'], ['GET', '/api/web/messages?after=0'], ['POST', '/api/web/messages'], ['POST', '/api/web/photos?id=abcdefgh12']] as const) {
      const res = await fetch(`${t.baseUrl}${pathname}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) });
      expect(res.status, `${method} ${pathname}`).toBe(404);
      expectHardened(res, pathname, { hsts: false });
      await res.arrayBuffer();
    }
    expect(await t.app.db.person.count()).toBe(0);
    const health = (await (await fetch(`${t.baseUrl}/healthz`)).json()) as { channels: Record<string, string> };
    expect(health.channels.web).toBeUndefined();
  });

  it('off: Telegram webhooks still work', async () => {
    const fake = await startFakeTelegram({ token: '123456789:AAE-fake_token_web_chat_off' });
    fakes.push(fake);
    const secret = 'webhook-secret-web-chat-off';
    const t = await start({ WEB_CHAT: 'off', TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot, PUBLIC_URL: 'https://bot.example.vn', TELEGRAM_WEBHOOK_SECRET: secret });
    expect((await fetch(`${t.baseUrl}/`)).status).toBe(404);
    const post = webhookPoster(`${t.baseUrl}/webhooks/telegram`, 'X-Telegram-Bot-Api-Secret-Token', secret);
    const since = fake.calls.length;
    const res = await post(fake.userCommand({ userId: 6101, text: '/start' }));
    expect(res.status).toBe(200);
    expectHardened(res, 'webhook', { hsts: true });
    await fake.waitForText(6101, /Bạn muốn dùng ngôn ngữ nào/, 10_000, { since });
  });
});
