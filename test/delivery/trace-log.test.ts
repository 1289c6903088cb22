/**
 * One log id per update, followed through to its deliveries (issue 9 item 7): the update's
 * "update handled" line, the outbox rows it queued (Delivery.traceId) and the delivery worker's
 * "delivery sent" lines for its replies all carry the same id; the next update gets another.
 * The service's real JSON logger is used, its lines captured as written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../fakes/fake-telegram-server.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { telegramUser } from '../helpers/telegram-user.js';
import { createLogger } from '../../src/logger.js';

const TOKEN = '123456789:AAE-fake_telegram_token_for_tracing';
const USER = 610_000_001;

let t: TestApp | undefined;
let fake: FakeTelegram | undefined;
afterEach(async () => {
  await t?.dispose();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

type Line = Record<string, unknown> & { msg: string; level: string };

describe('structured logs', () => {
  it("carry one id per update, from the update's line to its replies' delivery lines", async () => {
    fake = await startFakeTelegram({ token: TOKEN });
    const lines: Line[] = [];
    const logger = createLogger('debug', (line) => lines.push(JSON.parse(line) as Line));
    t = await startTestApp({ env: { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.apiRoot }, appOptions: { logger } });
    const user = telegramUser(fake, USER, { firstName: 'Lan' });

    const first = await user.command('/start');
    expect(first.text).not.toBe('');
    const handled = lines.filter((l) => l.msg === 'update handled' && l.channel === 'telegram');
    expect(handled).toHaveLength(1);
    const trace = handled[0]!.trace as string;
    expect(trace).toMatch(/^[0-9a-f]{16}$/);
    expect(handled[0]!.level).toBe('info');

    // The rows it queued carry the id, and each one's send is logged with it.
    const rows = await t.app.db.delivery.findMany({ where: { chatId: String(USER), kind: 'reply' } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.traceId)).toEqual(rows.map(() => trace));
    const sentLines = lines.filter((l) => l.msg === 'delivery sent' && l.kind === 'reply');
    expect(sentLines.map((l) => l.delivery).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(sentLines.map((l) => l.trace)).toEqual(sentLines.map(() => trace));
    expect(sentLines.every((l) => l.channel === 'telegram' && l.level === 'info')).toBe(true);

    // The next update has an id of its own, on its own replies.
    await user.command('/help');
    const second = lines.filter((l) => l.msg === 'update handled' && l.channel === 'telegram').at(-1)!.trace as string;
    expect(second).toMatch(/^[0-9a-f]{16}$/);
    expect(second).not.toBe(trace);
    const later = await t.app.db.delivery.findMany({ where: { chatId: String(USER), kind: 'reply', traceId: second } });
    expect(later.length).toBeGreaterThan(0);
    const laterLines = lines.filter((l) => l.msg === 'delivery sent' && later.some((r) => r.id === l.delivery));
    expect(laterLines).toHaveLength(later.length);
    expect(laterLines.every((l) => l.trace === second)).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(fake.refusals).toEqual([]);
  });
});
