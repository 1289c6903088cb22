/**
 * What `/metrics` shows, in Prometheus' text format (prom-client): updates handled and how long
 * they took, messages sent, failed and retried per channel, 429 answers, and the outbox's depth
 * and age (read from the database when scraped, so every instance reports the shared queue).
 * One registry per app, so two apps in one process (tests) keep their own counts.
 *
 * prom-client (with what it pulls in: OpenTelemetry's API, Node's cluster, v8 and perf_hooks) is
 * loaded after start-up, not before the service answers: `load()` (the app calls it once it is
 * ready), or the first scrape or handled update, whichever comes first. Updates handled before it
 * is loaded are counted once it is, with the time they took.
 */
import type { Registry } from 'prom-client';

export interface QueueStats {
  /** Rows waiting to be sent, per channel. */
  depth: Record<string, number>;
  /** Age in seconds of the oldest waiting row, per channel. */
  oldestAgeSeconds: Record<string, number>;
}

/** What each channel's delivery worker has done since start: sent, failed, retried, 429s. */
export type DeliveryStats = Record<string, { sent: number; failed: number; retried: number; rateLimited: number }>;

type MetricsOptions = { queueStats?: () => Promise<QueueStats>; deliveryStats?: () => DeliveryStats; processMetrics?: boolean };

export function createMetrics(options: MetricsOptions = {}) {
  let loading: Promise<Registered> | undefined;
  let registered: Registered | undefined;
  /** Handled updates counted before prom-client was loaded: [channel, outcome, seconds or undefined]. */
  const early: Array<[string, 'ok' | 'duplicate' | 'error', number | undefined]> = [];
  const load = (): Promise<Registered> =>
    (loading ??= import('prom-client').then((module) => {
      // A CommonJS package: its exports are the default export (always so in the bundle, see scripts/build.mjs).
      const prom = module.default ?? module;
      registered = register(prom, options);
      for (const [channel, outcome, seconds] of early.splice(0)) registered.count(channel, outcome, seconds);
      return registered;
    }));

  return {
    /** Loads prom-client now (the app calls it once it answers), so the first scrape does not wait. */
    load: async (): Promise<void> => void (await load()),
    /** Call when an update was handled; `startedAt` from performance.now(). */
    updateHandled(channel: string, outcome: 'ok' | 'duplicate' | 'error', startedAt: number) {
      const seconds = outcome === 'duplicate' ? undefined : (performance.now() - startedAt) / 1000;
      if (registered) return registered.count(channel, outcome, seconds);
      early.push([channel, outcome, seconds]);
      load().catch(() => undefined); // a scrape reports the failure
    },
    /** The text a Prometheus server scrapes. */
    async render(): Promise<{ contentType: string; body: string }> {
      const { registry } = await load();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

interface Registered {
  registry: Registry;
  count(channel: string, outcome: 'ok' | 'duplicate' | 'error', seconds: number | undefined): void;
}

function register(prom: typeof import('prom-client'), options: MetricsOptions): Registered {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom;
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const updates = new Counter({
    name: 'bot_updates_handled_total',
    help: 'Updates (messages and button presses) handled, by channel and outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  const handling = new Histogram({
    name: 'bot_update_handling_seconds',
    help: 'Time from an update reaching the core to its replies being stored',
    labelNames: ['channel'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // The delivery workers count for themselves; these read their totals when scraped.
  const deliveryStats: () => DeliveryStats = options.deliveryStats ?? (() => ({}));
  new Counter({
    name: 'bot_deliveries_total',
    help: 'Messages handed to a platform (direct replies and notifications), by channel and result',
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, s] of Object.entries(deliveryStats())) {
        this.inc({ channel, result: 'sent' }, s.sent);
        this.inc({ channel, result: 'failed' }, s.failed);
        this.inc({ channel, result: 'retried' }, s.retried);
      }
    },
  });
  new Counter({
    name: 'bot_rate_limited_total',
    help: '429 Too Many Requests answers received from a platform',
    labelNames: ['channel'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, s] of Object.entries(deliveryStats())) this.inc({ channel }, s.rateLimited);
    },
  });
  if (options.queueStats) {
    const queueStats = options.queueStats;
    let pending: Promise<QueueStats> | undefined;
    // Both gauges are filled from one query per scrape.
    const stats = () => (pending ??= queueStats().finally(() => setTimeout(() => (pending = undefined), 0)));
    new Gauge({
      name: 'bot_outbox_queue_depth',
      help: 'Messages waiting in the outbox, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [channel, n] of Object.entries((await stats()).depth)) this.set({ channel }, n);
      },
    });
    new Gauge({
      name: 'bot_outbox_oldest_age_seconds',
      help: 'Age of the oldest message waiting in the outbox, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const [channel, s] of Object.entries((await stats()).oldestAgeSeconds)) this.set({ channel }, s);
      },
    });
  }

  return {
    registry,
    count(channel, outcome, seconds) {
      updates.inc({ channel, outcome });
      if (seconds !== undefined) handling.observe({ channel }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
