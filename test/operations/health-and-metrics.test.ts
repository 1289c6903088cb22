/** What a ward's IT person watches: /healthz reads the database and the queue, /metrics counts updates. */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient } from '../helpers/web-client.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('operations endpoints', () => {
  it('/healthz reports the channels and the outbox; /metrics counts handled updates in Prometheus format', async () => {
    t = await startTestApp();
    const web = createWebClient(t.baseUrl);
    const replies = await web.say('/start');
    expect(replies.length).toBeGreaterThan(0);

    const health = (await (await fetch(`${t.baseUrl}/healthz`)).json()) as { ok: boolean; channels: Record<string, string>; queue: { depth: Record<string, number> } };
    expect(health.ok).toBe(true);
    expect(health.channels.web).toBe('on');
    expect(health.queue).toHaveProperty('depth');

    const res = await fetch(`${t.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await res.text();
    const handled = /^bot_updates_handled_total\{channel="web",outcome="ok"\} (\d+)$/m.exec(body);
    expect(Number(handled?.[1])).toBeGreaterThanOrEqual(1);
    expect(body).toMatch(/^# TYPE bot_update_handling_seconds histogram$/m);
    expect(body).toMatch(/^# TYPE bot_outbox_queue_depth gauge$/m);
    expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});
