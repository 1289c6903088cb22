/**
 * Durable inbound (issue 9 item 1): 300 Telegram updates from 100 people reach the service's
 * webhook while the service process (started as `npm start` runs it) is killed with SIGKILL three
 * times and started again on the same database. The sender behaves like Telegram: an update not
 * answered 200 is sent again (to the restarted service), and a person's next update waits for the
 * previous one's answer.
 *
 * Every update must have had its effect exactly once: each person's conversation ends at the same
 * step, and the direct replies queued for each person (one outbox row per reply, written in the
 * same transaction as the "handled" mark) are exactly the three turns' replies, once each. At the
 * fake, every reply arrives; copies sent twice can only be sends in flight at a kill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import { databaseUrl, removeDir, sleep, startFake, startService, tempDir, type ServiceProcess } from '../../bench/fanout-harness.js';
import { openDatabase } from '../../src/persistence/database.js';

const PEOPLE = 100;
const FIRST_USER = 810_000_000;
const SECRET = 'durable_inbound_secret_42';
const LANES = 25;
const KILL_AT = [60, 150, 240]; // acknowledged updates before each kill

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

/** The three updates of one person: /start, then "1" (Tiếng Việt), then "1" (I agree). */
function updatesOf(fake: FakeTelegram, i: number) {
  const who = { userId: FIRST_USER + i, firstName: `Người ${i}`, languageCode: 'vi' };
  return [fake.userCommand({ ...who, text: '/start' }), fake.userMessage({ ...who, text: '1' }), fake.userMessage({ ...who, text: '1' })];
}

describe('durable inbound: nothing lost, nothing twice', () => {
  it(
    '300 webhook updates from 100 people across three SIGKILLs: each handled exactly once, every reply delivered',
    async () => {
      const dir = tempDir('bot-durable-');
      dirs.push(dir);
      const url = databaseUrl(dir);
      const fake = await startFake();
      fakes.push(fake);
      const env = { DEMO_DATA: 'on', TELEGRAM_RATE_GLOBAL: '200', LOG_LEVEL: 'error' };
      const start = async () => {
        // Through tsx (the same code npm start runs compiled): no build step between a change and the test.
        const s = await startService({ databaseUrl: url, fake, env, webhookSecret: SECRET, entry: 'src/main.ts' });
        services.push(s);
        return s;
      };
      const began = Date.now();
      const timings: string[] = [];
      let current = await start();

      // Telegram-like sender: per person in order, an update is resent until it is answered 200.
      let acknowledged = 0;
      let resent = 0;
      let restarting: Promise<void> | undefined;
      const post = async (update: unknown): Promise<void> => {
        for (;;) {
          await restarting;
          const target = current;
          try {
            const res = await fetch(`${target.baseUrl}/webhooks/telegram`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
              body: JSON.stringify(update),
              signal: AbortSignal.timeout(20_000),
            });
            await res.text();
            if (res.ok) {
              acknowledged++;
              return;
            }
          } catch {
            // the process died under the request: not acknowledged
          }
          resent++;
          await sleep(20);
        }
      };
      const queue = Array.from({ length: PEOPLE }, (_, i) => i);
      const lanes = Array.from({ length: LANES }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          for (const update of updatesOf(fake, i)) await post(update);
        }
      });

      // Three kills while updates are in flight, each followed by a restart on the same database.
      const killer = (async () => {
        for (const at of KILL_AT) {
          while (acknowledged < at) await sleep(2);
          let release!: () => void;
          restarting = new Promise((r) => (release = r));
          const t0 = Date.now();
          await current.kill();
          current = await start();
          timings.push(`kill at ${at} acks (${t0 - began} ms), up again after ${Date.now() - t0} ms`);
          release();
        }
      })();
      await Promise.all([...lanes, killer]);
      timings.push(`all acknowledged after ${Date.now() - began} ms`);
      expect(acknowledged).toBe(PEOPLE * 3);

      // Every direct reply queued reaches Telegram.
      const { db, close } = await openDatabase(url);
      try {
        const deadline = Date.now() + 60_000;
        while ((await db.delivery.count({ where: { kind: 'reply', status: { in: ['queued', 'sending'] } } })) > 0) {
          if (Date.now() > deadline) throw new Error(`replies still queued after 60 s:\n${current.output()}`);
          await sleep(50);
        }
        timings.push(`replies drained after ${Date.now() - began} ms`);
        await current.stop();

        // Each update recorded as handled once.
        expect(await db.processedUpdate.count({ where: { id: { startsWith: 'telegram:' } } })).toBe(PEOPLE * 3);

        const accounts = await db.channelAccount.findMany({ where: { channel: 'telegram' }, include: { conversation: true } });
        expect(accounts).toHaveLength(PEOPLE);
        const replies = await db.delivery.findMany({ where: { kind: 'reply' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
        const byChat = new Map<string, string[]>();
        for (const r of replies) byChat.set(r.chatId, [...(byChat.get(r.chatId) ?? []), (JSON.parse(r.payload) as { text: string }).text]);

        // The same three turns for everyone: the reference is the most common sequence of replies.
        const counts = new Map<string, number>();
        for (const seq of byChat.values()) counts.set(JSON.stringify(seq), (counts.get(JSON.stringify(seq)) ?? 0) + 1);
        const expected = JSON.parse([...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0]) as string[];
        // /start greets and asks the language; "1" picks Vietnamese (the privacy notice); "1" agrees (where do you live).
        expect(expected[0]).toMatch(/trợ lý tự động/);
        expect(expected.join('\n')).toMatch(/Xóa dữ liệu của tôi/);
        expect(expected.at(-1)).toMatch(/tổ dân phố|khu dân cư/i);
        for (let i = 0; i < PEOPLE; i++) {
          const chat = String(FIRST_USER + i);
          expect(byChat.get(chat), `replies queued for person ${i}`).toEqual(expected);
        }
        const steps = new Set(accounts.map((a) => `${a.conversation?.flow}/${a.conversation?.step}`));
        expect(steps.size).toBe(1);
        const people = await db.person.findMany({ where: { accounts: { some: { channel: 'telegram' } } } });
        expect(people.every((p) => p.onboardedAt === null || p.onboardedAt instanceof Date)).toBe(true);
        expect(new Set(people.map((p) => p.locale))).toEqual(new Set(['vi']));

        // At Telegram: every reply arrived, in order per chat; a copy twice only for sends in flight at a kill.
        let duplicates = 0;
        for (let i = 0; i < PEOPLE; i++) {
          const got = fake.messagesTo(FIRST_USER + i);
          const firsts = got.filter((t, k) => got.indexOf(t) === k);
          expect(firsts, `messages seen by person ${i}`).toEqual(expected.filter((t, k) => expected.indexOf(t) === k));
          duplicates += got.length - expected.length;
        }
        console.log(
          `[durable-inbound] ${PEOPLE * 3} updates, ${KILL_AT.length} SIGKILLs, ${resent} sends repeated by the sender; ` +
            `replies ${replies.length} (${expected.length} per person); copies sent twice at Telegram: ${duplicates}; ${timings.join('; ')}`,
        );
        // The worker keeps at most 16 sends unrecorded; three kills.
        expect(duplicates).toBeLessThanOrEqual(16 * KILL_AT.length);
        expect(fake.refusals).toEqual([]);
      } finally {
        await close();
      }
    },
    240_000,
  );
});
