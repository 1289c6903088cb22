import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';
import { createWebClient, texts } from '../../helpers/web-client.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/fake-telegram-server.js';

let t: TestApp | undefined;
let fake: FakeTelegram | undefined;
afterEach(async () => {
  await t?.dispose();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Telegram at start-up', () => {
  it('an unreachable Bot API server does not take the service down: the web chat still works', async () => {
    const port = await closedPort();
    t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: '123456:unreachable', TELEGRAM_API_ROOT: `http://127.0.0.1:${port}` } });
    const health = (await (await fetch(`${t.baseUrl}/healthz`)).json()) as { channels: Record<string, string> };
    expect(health.channels.telegram).toBe('off');
    const web = createWebClient(t.baseUrl);
    expect(texts(await web.say('/start'))).toMatch(/Bạn muốn dùng ngôn ngữ nào/);
  });

  it('a server that refuses setMyCommands still gets a running bot', async () => {
    fake = await startFakeTelegram({ token: '123456:commands-refused' });
    fake.failNext('setMyCommands', { error_code: 400, description: 'Bad Request: not supported here' });
    fake.failNext('setMyCommands', { error_code: 400, description: 'Bad Request: not supported here' });
    t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot } });
    const health = (await (await fetch(`${t.baseUrl}/healthz`)).json()) as { channels: Record<string, string> };
    expect(health.channels.telegram).toBe('polling');
  });
});
