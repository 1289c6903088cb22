import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it, expect } from 'vitest';
import { postToWebhook, startFakeZalo, type FakeZalo } from '../../fakes/fake-zalo-server.js';

let fake: FakeZalo | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('fake Zalo server', () => {
  it('delivers updates to the registered webhook with the secret header', async () => {
    const got: Array<{ secret: string | undefined; body: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ secret: req.headers['x-bot-api-secret-token'] as string | undefined, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/zalo`;
    try {
      fake = await startFakeZalo();
      const set = await fetch(`${fake.apiRoot}/bot${fake.token}/setWebhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, secret_token: 'webhook-secret-1' }),
      });
      expect(set.status).toBe(200);
      expect(fake.webhookUrl).toBe(url);

      const update = { event_name: 'message.text.received', message: { message_id: 'w1', text: 'hi' } };
      expect(await fake.deliverToWebhook(update)).toEqual({ status: 200, body: 'ok' });
      expect(await postToWebhook(url, 'other-secret', update)).toMatchObject({ status: 200 });
      expect(got.map((g) => g.secret)).toEqual(['webhook-secret-1', 'other-secret']);
      expect(JSON.parse(got[0]!.body)).toEqual(update);

      // Polling while a webhook is set is refused, as the two exclude each other.
      const poll = await fetch(`${fake.apiRoot}/bot${fake.token}/getUpdates`, { method: 'POST', body: '{"timeout":"1"}' });
      expect(poll.status).toBe(409);
      expect(fake.refusals.map((r) => r.method)).toEqual(['getUpdates']);
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });

  it('waitFor resolves on a matching call and rejects with context on timeout', async () => {
    fake = await startFakeZalo();
    const waiting = fake.waitFor((c) => c.method === 'sendMessage' && c.body.text === 'b', 2000);
    for (const text of ['a', 'b']) {
      await fetch(`${fake.apiRoot}/bot${fake.token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: 'c1', text }),
      });
    }
    expect((await waiting).body).toEqual({ chat_id: 'c1', text: 'b' });
    await expect(fake.waitFor((c) => c.body.text === 'never', 50)).rejects.toThrow(/no matching call/);
  });
});
