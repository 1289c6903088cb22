/**
 * Idempotent confirms across instances on one database (issue 9 item 2, review M5): two service
 * processes (as `npm start` runs them) share the database (a SQLite file, or on the PostgreSQL
 * pass a schema of the test server); the same report preview's Send press
 * reaches both webhooks at the same moment. One case is filed; both answers name its reference
 * (one "sent", one "already sent"). Two processes, not two apps in one process: SQLite's busy wait
 * is synchronous, so two connections in one event loop would wait on each other.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import { databaseUrl, removeDir, sleep, startFake, startService, tempDir, type ServiceProcess } from '../../bench/fanout-harness.js';
import { openDatabase } from '../../src/persistence/database.js';
import { TEST_POSTGRES_URL, dropTestDatabase, testDatabaseUrl } from '../helpers/test-app.js';

const SECRET = 'two_processes_secret_77';
const USER = 8_300_001;
const KEY = 'K2procTestDraft1';
const SENT = /Đã gửi phản ánh\. Mã (?:của bạn|phản ánh): (PA-\w+)/;
const ALREADY = /Phản ánh này đã được gửi rồi, không gửi lại lần nữa\. Mã phản ánh của bạn: (PA-\w+)/;

let services: ServiceProcess[] = [];
let fakes: FakeTelegram[] = [];
let dirs: string[] = [];
let databases: string[] = [];
afterEach(async () => {
  for (const s of services) await s.kill();
  for (const f of fakes) await f.close();
  for (const d of dirs) removeDir(d);
  for (const u of databases) await dropTestDatabase(u);
  databases = [];
  services = [];
  fakes = [];
  dirs = [];
});

describe(`a report confirmed at two processes on one ${TEST_POSTGRES_URL ? 'PostgreSQL schema' : 'SQLite file'}`, () => {
  it('files one case; both answers carry its reference', async () => {
    const dir = tempDir('bot-confirm2-');
    dirs.push(dir);
    const url = TEST_POSTGRES_URL ? testDatabaseUrl(dir) : databaseUrl(dir);
    if (TEST_POSTGRES_URL) databases.push(url);
    const fake = await startFake();
    fakes.push(fake);
    const start = async (env: Record<string, string>) => {
      const s = await startService({ databaseUrl: url, fake, env: { DEMO_DATA: 'on', LOG_LEVEL: 'error', ...env }, webhookSecret: SECRET, entry: 'src/main.ts' });
      services.push(s);
      return s;
    };
    const a = await start({});

    // A resident of Tổ dân phố số 1 at the preview of a report (written as the flows leave it).
    const { db, close } = await openDatabase(url);
    try {
      const group = await db.group.findFirstOrThrow({ where: { inviteCode: 'KMA234' } });
      await db.person.create({
        data: {
          displayName: 'Trần Minh',
          onboardedAt: new Date(),
          memberships: { create: { groupId: group.id } },
          accounts: {
            create: {
              channel: 'telegram',
              externalId: String(USER),
              chatId: String(USER),
              conversation: {
                create: {
                  flow: 'report',
                  step: 'preview',
                  data: JSON.stringify({ draftKey: KEY, groupId: group.id, urgent: false, category: 'traffic', description: 'Đèn tín hiệu ở ngã tư hỏng', photoMediaId: null, placeText: null, anonymous: true }),
                  choices: JSON.stringify([`report:send:${KEY}`, 'report:discard']),
                },
              },
            },
          },
        },
      });
    } finally {
      await close();
    }
    const b = await start({ BACKGROUND_JOBS: 'off' });

    const post = (s: ServiceProcess, updateId: number) =>
      fetch(`${s.baseUrl}/webhooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ ...fake.callbackQuery({ userId: USER, firstName: 'Minh', languageCode: 'vi', data: `report:send:${KEY}` }), update_id: updateId }),
      });
    const answers = await Promise.all([post(a, 77_000_001), post(b, 77_000_002)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);

    // The first process's worker sends what both queued.
    const deadline = Date.now() + 60_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = fake.messagesTo(USER);
      if (seen.some((t) => SENT.test(t)) && seen.some((t) => ALREADY.test(t))) break;
      await sleep(50);
    }
    const sent = seen.filter((t) => SENT.test(t));
    const already = seen.filter((t) => ALREADY.test(t));
    expect(sent, `messages to the person:\n${seen.join('\n')}\n${a.output()}\n${b.output()}`).toHaveLength(1);
    expect(already, `messages to the person:\n${seen.join("\n")}\n${a.output()}\n${b.output()}`).toHaveLength(1);
    const ref = SENT.exec(sent[0]!)![1];
    expect(ALREADY.exec(already[0]!)![1]).toBe(ref);

    const check = await openDatabase(url);
    try {
      const cases = await check.db.case.findMany({ where: { draftKey: KEY } });
      expect(cases.map((c) => c.ref)).toEqual([ref]);
      expect(await check.db.case.count()).toBe(1);
    } finally {
      await check.close();
    }
    expect(fake.refusals).toEqual([]);
  }, 150_000);
});
