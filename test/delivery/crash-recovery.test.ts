/**
 * Crash recovery of the outbox: the real service process is killed with SIGKILL in the middle
 * of a 2,000-recipient alert fan-out through the fake Telegram server, then started again on
 * the same database. Every recipient must get the alert; the only copies sent twice may be the
 * sends in flight when the process died: the worker writes each outcome as soon as Telegram
 * answered (answers arriving together share one write) and frees a send's slot only once its
 * outcome is written, so at most `concurrency` (16) rows can have reached Telegram unrecorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import {
  alertRowStatuses,
  removeDir,
  seedDatabase,
  sendAlert,
  startFake,
  startService,
  trackAlert,
  type ServiceProcess,
} from '../../bench/fanout-harness.js';

const RECIPIENTS = 2_000;
// Not a multiple of the worker's claim batch (500), so the kill lands inside a claimed batch.
const KILL_AFTER = 700;
/** The worker's sends in flight at most (its default concurrency): the bound on copies sent twice. */
const IN_FLIGHT = 16;

let services: ServiceProcess[] = [];
let fakes: FakeTelegram[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const s of services) await s.kill();
  for (const f of fakes) await f.close();
  for (const d of dirs) removeDir(d);
  services = [];
  fakes = [];
  dirs = [];
});

describe('alert fan-out survives a crash', () => {
  it(
    'SIGKILL mid fan-out, restart: every recipient gets the alert, duplicates only from in-flight rows',
    async () => {
      const seeded = await seedDatabase(RECIPIENTS);
      dirs.push(seeded.dir);
      const fake = await startFake();
      fakes.push(fake);
      // Fast enough to finish in a few seconds, slow enough that the kill lands mid fan-out.
      const env = { TELEGRAM_RATE_GLOBAL: '400' };
      const first = await startService({ databaseUrl: seeded.databaseUrl, fake, env });
      services.push(first);

      const headline = `Cảnh giác trộm cắp ${Date.now().toString(36)}`;
      const tracker = trackAlert(fake, seeded.chatIds, headline);
      await sendAlert(first.baseUrl, seeded.leaderSession, headline);
      await tracker.until(() => tracker.total >= KILL_AFTER, 30_000, `${KILL_AFTER} copies before the kill`, 1);
      await first.kill();
      // Requests the fake had fully received before the kill are still answered (into a closed socket).
      await new Promise((r) => setTimeout(r, 200));
      const killedAfter = tracker.update().total;
      expect(killedAfter, 'the kill must land mid fan-out').toBeLessThan(RECIPIENTS);

      const atKill = await alertRowStatuses(seeded.databaseUrl);
      const sendingAtKill = atKill.sending ?? 0;
      // Copies that reached Telegram but whose row was not yet marked sent: the ones recovery will send again.
      const unrecorded = [...tracker.reachedChats()].filter((c) => !atKill.chatsSent.has(c)).length;

      const second = await startService({ databaseUrl: seeded.databaseUrl, fake, env });
      services.push(second);
      await tracker.until(() => tracker.reached === RECIPIENTS, 40_000, 'every recipient to get the alert', 20);
      // Wait until the outbox is drained, so every resend has happened before counting duplicates.
      const deadline = Date.now() + 20_000;
      let after = await alertRowStatuses(seeded.databaseUrl);
      while ((after.queued ?? 0) + (after.sending ?? 0) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        after = await alertRowStatuses(seeded.databaseUrl);
      }
      tracker.update();
      await second.stop();

      console.log(
        `[crash-recovery] killed after ${killedAfter} of ${RECIPIENTS} copies; rows claimed ("sending") at the kill: ${sendingAtKill}; ` +
          `in flight at the kill (reached Telegram, not yet recorded as sent): ${unrecorded}; ` +
          `duplicates after restart: ${tracker.duplicates} (at most ${IN_FLIGHT}: the sends in flight); lost: ${tracker.lost}`,
      );
      expect(after.sent).toBe(RECIPIENTS);
      expect(after.queued ?? 0).toBe(0);
      expect(after.sending ?? 0).toBe(0);
      expect(tracker.lost).toBe(0);
      expect(tracker.maxCopies).toBeLessThanOrEqual(2);
      expect(tracker.duplicates).toBeLessThanOrEqual(sendingAtKill);
      expect(tracker.duplicates).toBeLessThanOrEqual(unrecorded);
      expect(unrecorded).toBeLessThanOrEqual(IN_FLIGHT);
      expect(tracker.duplicates).toBeLessThanOrEqual(IN_FLIGHT);
      expect(fake.refusals).toEqual([]);
    },
    90_000,
  );
});
