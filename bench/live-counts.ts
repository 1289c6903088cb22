/**
 * The live-counts part of `npm run bench` (issue 10 item 2): at 1,000 alert answers arriving within
 * 10 s, the sender's live counts are right within one refresh.
 *
 * The real service process (as `npm start` runs it, webhook mode) on a seeded database (SQLite, and
 * PostgreSQL when reachable), Telegram pointed at the fake with Telegram's limits (30 messages/s in
 * all, 1 a second per chat) and the service's default pacing. A group leader composes and confirms
 * a security alert over Telegram; once every resident has their copy and the sender's status
 * message shows the fan-out done, 1,000 residents press an answer (60 % "Đã nhận", 30 % "An toàn",
 * 10 % "Cần giúp"), posted to the webhook as Telegram delivers updates (at most 40 requests at once,
 * its max_connections; a failed delivery posted again a second later), due evenly over 10 s.
 * Then the fake's editMessageText calls on the sender's status message are read: the time from the
 * last answer pressed (its due time) to the first edit whose counts equal the known totals, against
 * the follow-up job's refresh interval (the goal); also from the last answer's commit (its webhook
 * answered 200), which is the refresh alone, the webhook's response times during the burst and the
 * service's CPU time per answer (which says whether one process can take 100 answers/s at all).
 * BENCH_SERVICE_ENTRY=src/main.ts runs the sources through tsx instead of the build; BENCH_LIVE_DEBUG=1
 * prints the service's last log lines and the first failed deliveries.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Update } from 'grammy/types';
import type { FakeTelegram, RecordedCall } from '../test/fakes/fake-telegram-server.js';
import { ALERT_FOLLOW_UP_MS } from '../src/jobs/alert-follow-up.job.js';
import {
  LEADER_TELEGRAM_ID,
  PROJECT_ROOT,
  dropPostgresSchema,
  postgresSchemaUrl,
  removeDir,
  seedDatabase,
  seedPostgres,
  sleep,
  startFake,
  startService,
  trackAlert,
  type ServiceProcess,
} from './fanout-harness.js';

/** The webhook secret the service is started with (TELEGRAM_WEBHOOK_SECRET). */
export const LIVE_WEBHOOK_SECRET = 'bench_live_counts_secret_1';
const SECRET = LIVE_WEBHOOK_SECRET;
const LEADER = Number(LEADER_TELEGRAM_ID);

/** The answers pressed, by button code, and the count each adds to ("r" Đã nhận, "s" An toàn, "h" Cần giúp). */
const MIX = [
  { code: 'r', count: 'received', share: 6 },
  { code: 's', count: 'safe', share: 3 },
  { code: 'h', count: 'needHelp', share: 1 },
] as const;
type CountName = (typeof MIX)[number]['count'];

export interface LiveCountsOptions {
  engine: 'SQLite' | 'PostgreSQL';
  /** PostgreSQL server (postgresql://...): a schema of its own is made and dropped. */
  pgServer?: string;
  residents: number;
  answers: number;
  spreadMs: number;
  /** Webhook connections at once, as Telegram's max_connections (40 by default). */
  connections: number;
  nodeArgs: string[];
  log(line: string): void;
}

export interface LiveCountsFigures {
  engine: string;
  residents: number;
  answers: number;
  expected: Record<CountName, number>;
  /** First to last answer posted, ms. */
  burstMs: number;
  /** Webhook round trips of the answers, ms. */
  webhookP50: number;
  webhookP95: number;
  webhookMax: number;
  webhookFailed: number;
  /** Deliveries posted again after a failure or a refusal (as Telegram retries a webhook). */
  webhookRetries: number;
  /** From when an answer was due to its commit (queueing behind the 40 connections included), p95. */
  lagP95: number;
  /** The last answer's commit after the last answer was due, ms. */
  lastCommittedAfterMs: number;
  /** Service CPU time (user + system) from the first answer to the last commit, per answer. */
  cpuPerAnswerMs: number;
  refreshMs: number;
  /** Last answer pressed (due) to the first edit showing the exact totals; NaN if none came. */
  rightAfterMs: number;
  /** The same from the last answer's commit (its webhook answered 200): the refresh alone. Below 0: the edit came before the 200 reached the bench. */
  rightAfterCommitMs: number;
  /** Edits of the status message from the first answer on, and the counts the last one showed. */
  edits: number;
  lastShown?: Record<string, number>;
  /** An edit after the right one showed other counts. */
  wrongAfterRight: boolean;
  tooManyRequests: number;
  note?: string;
}

/** The sender's status counts as the Vietnamese template writes them, back into numbers. */
export function countsParser(): (text: string) => Record<string, number> | undefined {
  const alerts = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'locales', 'vi', 'alerts.json'), 'utf8')) as Record<string, string>;
  const template = alerts.statusCounts!;
  const names: string[] = [];
  const source = template
    .split(/(\{\{\w+\}\})/)
    .map((part) => {
      const name = /^\{\{(\w+)\}\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '(\\d+)';
    })
    .join('');
  const re = new RegExp(source);
  return (text) => {
    const m = re.exec(text);
    return m ? Object.fromEntries(names.map((n, i) => [n, Number(m[i + 1])])) : undefined;
  };
}

const buttonsOf = (c: RecordedCall): Array<{ text: string; callback_data: string }> =>
  (c.body.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data: string }>> } | undefined)?.inline_keyboard?.flat() ?? [];
const messageIdOf = (c: RecordedCall) => (c.result as { message_id: number }).message_id;

/** Waits for a call from `since` on that matches; throws after `timeoutMs`. */
async function waitCall(fake: FakeTelegram, since: number, match: (c: RecordedCall) => boolean, what: string, timeoutMs = 30_000): Promise<RecordedCall> {
  const deadline = Date.now() + timeoutMs;
  for (let i = since; ; ) {
    for (; i < fake.calls.length; i++) if (match(fake.calls[i]!)) return fake.calls[i]!;
    if (Date.now() > deadline) {
      const recent = fake.calls.slice(Math.max(since, fake.calls.length - 5)).map((c) => `${c.method} ${String(c.body.chat_id ?? '')}: ${String(c.body.text ?? '').slice(0, 80)} [${buttonsOf(c).map((b) => b.callback_data).join(' ')}]`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the last calls: ${recent.join(' | ') || 'none'}`);
    }
    await sleep(10);
  }
}

/**
 * Posts an update to the service's webhook as Telegram does (the fake posts to the https URL the
 * service registered, which a loopback test cannot serve); resolves once the service answered 200,
 * i.e. committed the update.
 */
export async function postUpdate(webhook: string, update: Update): Promise<void> {
  const res = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
}

/**
 * The leader composes and confirms the alert on Telegram, pressing each offered button on the
 * message that offered it. Resolves once the confirm's update is committed.
 */
export async function composeOnTelegram(fake: FakeTelegram, webhook: string, headline: string): Promise<void> {
  const toLeader = (c: RecordedCall) => c.method === 'sendMessage' && String(c.body.chat_id) === LEADER_TELEGRAM_ID;
  const who = { userId: LEADER, languageCode: 'vi', firstName: 'Tổ trưởng' };
  const step = async (update: Update) => {
    const since = fake.calls.length;
    await postUpdate(webhook, update);
    return since;
  };
  const offered = async (since: number, prefix: string) => {
    const call = await waitCall(fake, since, (c) => toLeader(c) && buttonsOf(c).some((b) => b.callback_data.startsWith(prefix)), `the leader to be offered "${prefix}"`);
    return { data: buttonsOf(call).find((b) => b.callback_data.startsWith(prefix))!.callback_data, messageId: messageIdOf(call) };
  };
  const press = async (button: { data: string; messageId: number }) => step(fake.callbackQuery({ ...who, ...button }));
  const replied = (since: number) => waitCall(fake, since, toLeader, 'a reply to the leader');

  let since = await step(fake.userCommand({ ...who, text: '/alert' }));
  since = await press(await offered(since, 'alert:cat:security'));
  since = await press(await offered(since, 'alert:sev:severe'));
  await replied(since);
  since = await step(fake.userMessage({ ...who, text: headline }));
  await replied(since);
  since = await step(fake.userMessage({ ...who, text: 'Phát hiện đối tượng khả nghi đi xe máy không biển số quanh khu tập thể, đã trình báo công an phường.' }));
  since = await press(await offered(since, 'alert:skip'));
  since = await press(await offered(since, 'alert:exp:6h'));
  since = await press(await offered(since, 'alert:real'));
  await press(await offered(since, 'alert:send'));
}

const CLOCK_TICK_MS = 10; // Linux USER_HZ

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export async function runLiveCounts(options: LiveCountsOptions): Promise<LiveCountsFigures | undefined> {
  const { log, residents, engine } = options;
  const answers = Math.min(options.answers, residents);
  let databaseUrl: string;
  let chatIds: string[];
  let cleanup: () => Promise<void>;
  if (engine === 'PostgreSQL') {
    const url = postgresSchemaUrl(options.pgServer!, 'bench_live');
    try {
      ({ chatIds } = await seedPostgres(residents, url));
    } catch (error) {
      log(`live counts on PostgreSQL skipped: could not seed a schema on ${options.pgServer!.replace(/\/\/[^@/]*@/, '//***@')} (${error instanceof Error ? error.message : String(error)})`);
      await dropPostgresSchema(url).catch(() => undefined);
      return undefined;
    }
    databaseUrl = url;
    cleanup = () => dropPostgresSchema(url).catch(() => undefined);
  } else {
    const seeded = await seedDatabase(residents);
    ({ databaseUrl, chatIds } = seeded);
    cleanup = async () => removeDir(seeded.dir);
  }

  // Telegram's own limits on the fake; the service's default pacing (30/s in all, 1/s per chat).
  const fake = await startFake({ globalPerSecond: 30, perChatPerSecond: 1 });
  let service: ServiceProcess | undefined;
  try {
    // BENCH_SERVICE_ENTRY=src/main.ts runs the sources through tsx instead of the build (dist/).
    service = await startService({ databaseUrl, fake, webhookSecret: SECRET, nodeArgs: options.nodeArgs, entry: process.env.BENCH_SERVICE_ENTRY || undefined });
    log(`live counts (${engine}): service up; the leader composes an alert to ${residents} residents on Telegram`);
    const headline = `Live ${randomUUID().slice(0, 8)}: đối tượng khả nghi`;
    const tracker = trackAlert(fake, chatIds, headline);
    const webhook = `${service.baseUrl}/webhooks/telegram`;
    await composeOnTelegram(fake, webhook, headline);
    const confirmedAt = Date.now();
    await tracker.until(() => tracker.reached === residents, 120_000 + residents * 100, 'every resident to get the alert', 50);
    log(`live counts (${engine}): ${residents} copies delivered in ${((Date.now() - confirmedAt) / 1000).toFixed(1)} s`);

    const parse = countsParser();
    const isStatus = (c: RecordedCall) => String(c.body.chat_id) === LEADER_TELEGRAM_ID && typeof c.body.text === 'string' && c.body.text.includes(headline) && parse(c.body.text) !== undefined;
    const status = await waitCall(fake, 0, (c) => c.method === 'sendMessage' && isStatus(c), "the sender's status message", 60_000);
    const statusId = messageIdOf(status);
    const editsOfStatus = (from: number) =>
      fake.calls.slice(from).filter((c) => c.method === 'editMessageText' && isStatus(c) && Number(c.body.message_id) === statusId);
    // A settled start: the status shows the fan-out done (nothing waiting, every copy delivered).
    await waitCall(
      fake,
      0,
      (c) => {
        const shown = (c.method === 'editMessageText' || c.method === 'sendMessage') && isStatus(c) ? parse(String(c.body.text)) : undefined;
        return shown?.queued === 0 && (shown.sent ?? 0) >= residents;
      },
      'the status message to show the fan-out done',
      60_000,
    );

    // Each resident's copy: the message they press on, and the alert's id from its buttons.
    const copies = new Map<string, RecordedCall>();
    for (const c of fake.calls) if (c.method === 'sendMessage' && typeof c.body.text === 'string' && c.body.text.includes(headline) && !copies.has(String(c.body.chat_id))) copies.set(String(c.body.chat_id), c);
    const alertId = /^a:([^:]+):r$/.exec(buttonsOf(copies.get(chatIds[0]!)!).find((b) => b.callback_data.endsWith(':r'))?.callback_data ?? '')?.[1];
    if (!alertId) throw new Error('no answer buttons on the alert copy');

    const expected = { received: 0, safe: 0, needHelp: 0 } as Record<CountName, number>;
    const shares = MIX.flatMap((m) => Array.from({ length: m.share }, () => m));
    const presses = chatIds.slice(0, answers).map((chat, i) => {
      const m = shares[i % shares.length]!;
      expected[m.count]++;
      return { chat, code: m.code };
    });

    const fromCall = fake.calls.length;
    const webhookMs: number[] = [];
    const lagMs: number[] = [];
    let retries = 0;
    let lastCommittedAt = 0;
    // As Telegram delivers to a webhook: at most `connections` requests at once (its max_connections,
    // 40 by default), each update posted again a second after a failed or refused delivery.
    let open = 0;
    const waiting: Array<() => void> = [];
    const slot = async () => {
      while (open >= options.connections) await new Promise<void>((resolve) => waiting.push(resolve));
      open++;
    };
    const release = () => {
      open--;
      waiting.shift()?.();
    };
    const deliver = async (update: Update, due: number) => {
      for (let attempt = 0; ; attempt++) {
        await slot();
        const t0 = performance.now();
        try {
          await postUpdate(webhook, update);
          webhookMs.push(performance.now() - t0);
          lastCommittedAt = Math.max(lastCommittedAt, Date.now());
          lagMs.push(Date.now() - due);
          return;
        } catch (error) {
          retries++;
          if (process.env.BENCH_LIVE_DEBUG && retries < 5) log(`answer failed: ${(error as Error).message} ${String(((error as Error).cause as Error | undefined)?.message ?? '')}`);
          if (attempt >= 20) throw error;
        } finally {
          release();
        }
        await sleep(1000);
      }
    };
    let failed = 0;
    const cpuBefore = cpuMs(service.pid);
    const firstAt = Date.now();
    let lastPostedAt = firstAt;
    const inFlight: Promise<void>[] = [];
    log(`live counts (${engine}): ${answers} answers over ${options.spreadMs / 1000} s (${MIX.map((m) => `${expected[m.count]} ${m.count}`).join(', ')})`);
    for (let i = 0; i < presses.length; i++) {
      const due = firstAt + (i * options.spreadMs) / presses.length;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      const { chat, code } = presses[i]!;
      const update = fake.callbackQuery({ userId: Number(chat), languageCode: 'vi', firstName: 'Cư dân', data: `a:${alertId}:${code}`, messageId: messageIdOf(copies.get(chat)!) });
      lastPostedAt = Date.now();
      inFlight.push(deliver(update, due).catch(() => void failed++));
    }
    await Promise.all(inFlight);
    const cpuPerAnswerMs = (cpuMs(service.pid) - cpuBefore) / answers;
    const refreshMs = ALERT_FOLLOW_UP_MS;
    log(`live counts (${engine}): last answer committed ${lastCommittedAt - lastPostedAt} ms after the last was due; watching the status edits`);

    const exact = (shown: Record<string, number> | undefined) => !!shown && MIX.every((m) => shown[m.count] === expected[m.count]);
    // Long enough to see a late refresh (and that none undoes the right counts).
    const watchUntil = lastCommittedAt + Math.max(4 * refreshMs, 15_000);
    let right: RecordedCall | undefined;
    while (Date.now() < watchUntil) {
      right ??= editsOfStatus(fromCall).find((c) => exact(parse(String(c.body.text))));
      if (right && Date.now() > right.at + 2 * refreshMs) break;
      await sleep(50);
    }
    const edits = editsOfStatus(fromCall);
    const lastShown = edits.length ? parse(String(edits.at(-1)!.body.text)) : undefined;
    const sorted = [...webhookMs].sort((a, b) => a - b);
    const lags = [...lagMs].sort((a, b) => a - b);
    return {
      engine,
      residents,
      answers,
      expected,
      burstMs: lastPostedAt - firstAt,
      webhookP50: percentile(sorted, 0.5),
      webhookP95: percentile(sorted, 0.95),
      webhookMax: sorted.at(-1) ?? NaN,
      webhookFailed: failed,
      webhookRetries: retries,
      lagP95: percentile(lags, 0.95),
      lastCommittedAfterMs: lastCommittedAt - lastPostedAt,
      cpuPerAnswerMs,
      refreshMs,
      rightAfterMs: right ? right.at - lastPostedAt : NaN,
      rightAfterCommitMs: right ? right.at - lastCommittedAt : NaN,
      edits: edits.length,
      lastShown,
      wrongAfterRight: !!right && edits.slice(edits.indexOf(right) + 1).some((c) => !exact(parse(String(c.body.text)))),
      tooManyRequests: fake.tooManyRequests,
    };
  } finally {
    if (process.env.BENCH_LIVE_DEBUG) process.stdout.write(service?.output() ?? '');
    await service?.stop();
    await fake.close();
    await cleanup();
  }
}

export function liveCountsTable(results: LiveCountsFigures[]): string[][] {
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const rows: string[][] = [['live counts (sender\'s status message)', ...results.map((r) => r.engine), '']];
  const line = (label: string, pick: (r: LiveCountsFigures) => string, goal = '') => rows.push([label, ...results.map(pick), goal]);
  line('residents / answers', (r) => `${r.residents} / ${r.answers}`);
  line('answers: received, safe, need help', (r) => `${r.expected.received}, ${r.expected.safe}, ${r.expected.needHelp}`);
  line('first to last answer posted', (r) => `${(r.burstMs / 1000).toFixed(2)} s`);
  line('webhook p50 during the burst (request to 200)', (r) => `${r.webhookP50.toFixed(1)} ms`);
  line('webhook p95 during the burst (request to 200)', (r) => `${r.webhookP95.toFixed(1)} ms`);
  line('webhook max during the burst', (r) => `${r.webhookMax.toFixed(1)} ms`);
  line('answer pressed to committed, p95 (<= 40 connections)', (r) => `${r.lagP95.toFixed(0)} ms`);
  line('last answer committed after it was pressed', (r) => `${r.lastCommittedAfterMs} ms`);
  line('service CPU per answer', (r) => `${r.cpuPerAnswerMs.toFixed(2)} ms`);
  line('deliveries posted again (failed or refused)', (r) => String(r.webhookRetries));
  line('answers never accepted', (r) => String(r.webhookFailed), results.map((r) => `${r.engine} ${mark(r.webhookFailed === 0)}`).join(', '));
  line('refresh interval (alert follow-up job)', (r) => `${r.refreshMs} ms`);
  line('status edits after the first answer', (r) => String(r.edits));
  line('counts the last edit showed (r/s/h)', (r) => (r.lastShown ? `${r.lastShown.received}/${r.lastShown.safe}/${r.lastShown.needHelp}` : 'none'));
  line('last answer committed to exact counts shown', (r) => (Number.isNaN(r.rightAfterCommitMs) ? 'never' : `${r.rightAfterCommitMs} ms`));
  line(
    'last answer pressed to exact counts shown',
    (r) => (Number.isNaN(r.rightAfterMs) ? 'never' : `${r.rightAfterMs} ms`),
    `goal <= one refresh: ${results.map((r) => `${r.engine} ${mark(!Number.isNaN(r.rightAfterMs) && r.rightAfterMs <= r.refreshMs && !r.wrongAfterRight)}`).join(', ')}`,
  );
  line('429 answers received', (r) => String(r.tooManyRequests));
  return rows;
}
