import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { createZaloClient, ZaloApiError, type ZaloClient, type ZaloLog } from '../../../src/channels/zalo/zalo-client.js';
import { startZaloPolling, type ZaloPolling } from '../../../src/channels/zalo/zalo-polling.js';
import type { ZaloUpdate } from '../../../src/channels/zalo/to-inbound.js';
import { startFakeZalo, type FakeZalo } from '../../fakes/fake-zalo-server.js';

const TOKEN = '2718281828:polling-test-secret';

function textUpdate(id: string, text: string) {
  return {
    event_name: 'message.text.received',
    message: { message_id: id, date: Date.now(), from: { id: 'u1', display_name: 'An' }, chat: { id: 'u1', chat_type: 'PRIVATE' }, text },
  };
}

/** Polls `check` until it holds, so tests wait on events rather than fixed sleeps. */
async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function recordingLog() {
  const lines: Record<'debug' | 'info' | 'warn' | 'error', string[]> = { debug: [], info: [], warn: [], error: [] };
  const log: ZaloLog = {
    debug: (m) => lines.debug.push(m),
    info: (m) => lines.info.push(m),
    warn: (m) => lines.warn.push(m),
    error: (m) => lines.error.push(m),
  };
  return { log, lines };
}

let fake: FakeZalo;
let client: ZaloClient;
let polling: ZaloPolling | undefined;

beforeEach(async () => {
  fake = await startFakeZalo({ token: TOKEN });
  client = createZaloClient({ token: TOKEN, apiRoot: fake.apiRoot });
});

afterEach(async () => {
  await polling?.stop();
  polling = undefined;
  await fake.close();
});

describe('startZaloPolling', () => {
  it('deletes the webhook first, then hands each pushed update to onUpdate in order', async () => {
    await client.setWebhook('https://bot.example.org/hook', 'secret-secret');
    const received: ZaloUpdate[] = [];
    polling = startZaloPolling({ client, onUpdate: (u) => void received.push(u), pollTimeoutSeconds: 1 });
    fake.pushUpdate(textUpdate('m1', 'một'));
    fake.pushUpdate(textUpdate('m2', 'hai'));
    await until(() => received.length === 2);
    expect(received.map((u) => u.message?.text)).toEqual(['một', 'hai']);
    expect(fake.webhookCalls.map((c) => c.method)).toEqual(['setWebhook', 'deleteWebhook']);
    expect(fake.sent.filter((c) => c.method === 'deleteWebhook')).toHaveLength(1);
    expect(fake.refusals).toEqual([]);
  });

  it('polls again at once after a 408 "no update"', async () => {
    const received: ZaloUpdate[] = [];
    polling = startZaloPolling({ client, onUpdate: (u) => void received.push(u), pollTimeoutSeconds: 0.05 });
    await until(() => fake.requests.filter((r) => r.outcome === 'no-update').length >= 3);
    fake.pushUpdate(textUpdate('m1', 'sau vài lần chờ'));
    await until(() => received.length === 1);
    expect(received[0]?.message?.text).toBe('sau vài lần chờ');
  });

  it('backs off on errors with the configured delays, then recovers', async () => {
    const { log, lines } = recordingLog();
    for (let i = 0; i < 3; i++) fake.failNext('getUpdates', { status: 500, description: 'Internal error' });
    const received: ZaloUpdate[] = [];
    fake.pushUpdate(textUpdate('m1', 'đã hồi phục'));
    polling = startZaloPolling({
      client,
      onUpdate: (u) => void received.push(u),
      pollTimeoutSeconds: 1,
      log,
      backoff: { initialMs: 5, maxMs: 15 },
    });
    await until(() => received.length === 1);
    expect(lines.warn).toHaveLength(3);
    expect(lines.warn.map((l) => /retrying in (\d+) ms/.exec(l)?.[1])).toEqual(['5', '10', '15']);
  });

  it('waits at least retry_after on a 429', async () => {
    const { log, lines } = recordingLog();
    fake.failNext('getUpdates', { status: 429, description: 'Quota exceeded', retry_after: 0.05 });
    polling = startZaloPolling({ client, onUpdate: () => {}, pollTimeoutSeconds: 0.05, log, backoff: { initialMs: 1, maxMs: 2 } });
    await until(() => lines.warn.length === 1);
    expect(lines.warn[0]).toContain('retrying in 50 ms');
  });

  it('stops and logs an invalid token on 401', async () => {
    const { log, lines } = recordingLog();
    const wrong = createZaloClient({ token: '2718281828:wrong', apiRoot: fake.apiRoot });
    polling = startZaloPolling({ client: wrong, onUpdate: () => {}, log });
    await polling.done;
    expect(polling.running).toBe(false);
    expect(lines.error.join('\n')).toMatch(/token is invalid/);
    expect(lines.error.join('\n')).not.toContain('wrong');
    expect(fake.requests.map((r) => r.method)).toEqual(['deleteWebhook']); // never polled with a bad token
  });

  it('stops on a 401 from getUpdates too', async () => {
    const { log, lines } = recordingLog();
    fake.failNext('getUpdates', { status: 401, description: 'Unauthorized' });
    polling = startZaloPolling({ client, onUpdate: () => {}, log, backoff: { initialMs: 1 } });
    await polling.done;
    expect(lines.error).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === 'getUpdates')).toHaveLength(1);
  });

  it('logs a failing handler and keeps polling', async () => {
    const { log, lines } = recordingLog();
    const received: string[] = [];
    polling = startZaloPolling({
      client,
      log,
      pollTimeoutSeconds: 1,
      onUpdate: async (u) => {
        if (u.message?.text === 'boom') throw new Error('handler exploded');
        received.push(u.message?.text ?? '');
      },
    });
    fake.pushUpdate(textUpdate('m1', 'boom'));
    fake.pushUpdate(textUpdate('m2', 'vẫn chạy'));
    await until(() => received.length === 1);
    expect(received).toEqual(['vẫn chạy']);
    expect(lines.error.join('\n')).toContain('handler exploded');
    expect(polling.running).toBe(true);
  });

  it('stop() aborts the in-flight long poll promptly and leaves later updates queued', async () => {
    polling = startZaloPolling({ client, onUpdate: () => {}, pollTimeoutSeconds: 30 });
    await until(() => fake.waitingPolls === 1);
    const started = Date.now();
    await polling.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(polling.running).toBe(false);
    await until(() => fake.waitingPolls === 0);
    fake.pushUpdate(textUpdate('m1', 'sau khi dừng'));
    expect(fake.pendingUpdates).toBe(1); // the aborted poll did not swallow it
  });

  it('stop() during a backoff sleep ends at once', async () => {
    const calls: number[] = [];
    const failing: Pick<ZaloClient, 'deleteWebhook' | 'getUpdates'> = {
      deleteWebhook: async () => ({ url: '' }),
      getUpdates: async () => {
        calls.push(Date.now());
        throw new ZaloApiError('getUpdates', 502, 'Bad gateway');
      },
    };
    polling = startZaloPolling({ client: failing, onUpdate: () => {}, backoff: { initialMs: 60_000 } });
    await until(() => calls.length === 1);
    const started = Date.now();
    await polling.stop();
    expect(Date.now() - started).toBeLessThan(200);
    expect(calls).toHaveLength(1);
  });
});
