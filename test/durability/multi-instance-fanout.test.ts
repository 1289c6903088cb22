/**
 * Several instances on one PostgreSQL (issue 9 item 4): two service processes (as `npm start`
 * runs them, webhook mode, each named as another machine) share the database. The leader sends an
 * alert to 2,000 residents through the web chat of the instance that does NOT send; the other one
 * holds the Telegram sender lease and fans out. It is killed with SIGKILL mid fan-out: the
 * survivor takes the lease over within 10 s (6 s time-to-live, tried every 2 s), puts the dead
 * sender's claimed rows back in the queue and finishes. Every recipient gets the alert; copies sent
 * twice are at most the sends in flight at the kill; the fake Telegram server, limited to the
 * rate both instances are configured with, never answers 429: one sender at a time paces the token.
 * Runs in the PostgreSQL pass (TEST_DATABASE_URL=postgresql://...; each run in a schema of its own).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import {
  alertRowStatuses,
  dropPostgresSchema,
  leasesOf,
  postgresSchemaUrl,
  seedPostgres,
  sendAlert,
  sleep,
  startFake,
  startService,
  trackAlert,
  type ServiceProcess,
} from '../../bench/fanout-harness.js';
import { TEST_POSTGRES_URL } from '../helpers/test-app.js';

const SERVER = TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const RECIPIENTS = 2_000;
const KILL_AFTER = 700;
const LIMIT = 400;
/** The worker's sends in flight at most (its default concurrency): the bound on copies sent twice. */
const IN_FLIGHT = 16;
const SENDER = 'sender:telegram:123456789';

let services: ServiceProcess[] = [];
let fakes: FakeTelegram[] = [];
let schemas: string[] = [];
afterEach(async () => {
  for (const s of services) await s.kill();
  for (const f of fakes) await f.close();
  for (const url of schemas) await dropPostgresSchema(url);
  services = [];
  fakes = [];
  schemas = [];
});

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describe.skipIf(!TEST_POSTGRES_URL)('two instances on one PostgreSQL', () => {
  it(
    'the sender is killed mid fan-out: the other takes over within 10 s; 0 lost, duplicates only in-flight sends, no 429',
    async () => {
      const url = postgresSchemaUrl(SERVER, 'multi');
      schemas.push(url);
      const seeded = await seedPostgres(RECIPIENTS, url);
      const fake = await startFake({ globalPerSecond: LIMIT });
      fakes.push(fake);
      const start = async (name: string) => {
        const s = await startService({
          databaseUrl: url,
          fake,
          webhookSecret: 'multi_instance_secret_1',
          env: { TELEGRAM_RATE_GLOBAL: String(LIMIT), INSTANCE_NAME: name, LOG_LEVEL: 'info' },
        });
        services.push(s);
        return s;
      };
      const a = await start('machine-a');
      // /healthz answers once the channels are up; the leases are taken just after.
      await until(async () => (await leasesOf(a)).includes(SENDER), 10_000, 'the first instance to take the sender lease');
      const b = await start('machine-b');
      await until(async () => b.output().includes('another instance holds them'), 10_000, 'the second instance to start its turn-taking');
      // The first one up took the sender lease and the timers; the second waits its turn.
      expect(await leasesOf(a)).toEqual(expect.arrayContaining([SENDER, 'timers']));
      expect(await leasesOf(b)).toEqual([]);

      const headline = `Hai máy chủ ${Date.now().toString(36)}`;
      const tracker = trackAlert(fake, seeded.chatIds, headline);
      await sendAlert(b.baseUrl, seeded.leaderSession, headline); // the web chat of the instance that does not send
      await tracker.until(() => tracker.total >= KILL_AFTER, 30_000, `${KILL_AFTER} copies before the kill`, 1);
      await a.kill();
      const killedAt = Date.now();
      await sleep(200); // requests the fake had fully received are still answered
      const killedAfter = tracker.update().total;
      expect(killedAfter, 'the kill must land mid fan-out').toBeLessThan(RECIPIENTS);
      const atKill = await alertRowStatuses(url);
      const unrecorded = [...tracker.reachedChats()].filter((c) => !atKill.chatsSent.has(c)).length;

      // The survivor takes the lease over and sends the rest.
      await tracker.until(() => tracker.total > killedAfter, 15_000, 'the other instance to take over', 5);
      // The first copy the fake received after the kill (and after the dead sender's last requests landed).
      const takeoverMs = tracker.update().firstAfter(killedAt + 200) - killedAt;
      await tracker.until(() => tracker.reached === RECIPIENTS, 40_000, 'every recipient to get the alert', 20);
      const deadline = Date.now() + 20_000;
      let after = await alertRowStatuses(url);
      while ((after.queued ?? 0) + (after.sending ?? 0) > 0 && Date.now() < deadline) {
        await sleep(500);
        after = await alertRowStatuses(url);
      }
      tracker.update();
      expect(await leasesOf(b)).toEqual(expect.arrayContaining([SENDER, 'timers']));
      await b.stop();

      console.log(
        `[multi-instance] killed the sender after ${killedAfter} of ${RECIPIENTS} copies; the other instance sent again ${Math.round(takeoverMs)} ms after the kill; ` +
          `in flight at the kill (reached Telegram, not recorded): ${unrecorded}; duplicates: ${tracker.duplicates} (at most ${IN_FLIGHT}); lost: ${tracker.lost}; 429 answers: ${fake.tooManyRequests}`,
      );
      expect(takeoverMs).toBeLessThan(10_000);
      expect(after.sent).toBe(RECIPIENTS);
      expect(tracker.lost).toBe(0);
      expect(tracker.maxCopies).toBeLessThanOrEqual(2);
      expect(tracker.duplicates).toBeLessThanOrEqual(unrecorded);
      expect(unrecorded).toBeLessThanOrEqual(IN_FLIGHT);
      expect(fake.tooManyRequests).toBe(0);
      expect(fake.refusals).toEqual([]);
    },
    180_000,
  );
});
