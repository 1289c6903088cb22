/**
 * What `/metrics` shows, in Prometheus' text format (prom-client): updates handled and how long
 * they took, messages sent, failed and retried per channel, 429 answers, and the outbox's depth
 * and age (read from the database when scraped, so every instance reports the shared queue).
 * One registry per app, so two apps in one process (tests) keep their own counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface QueueStats {
  /** Rows waiting to be sent, per channel. */
  depth: Record<string, number>;
  /** Age in seconds of the oldest waiting row, per channel. */
  oldestAgeSeconds: Record<string, number>;
}

/** What each channel's delivery worker has done since start: sent, failed, retried, 429s. */
export type DeliveryStats = Record<string, { sent: number; failed: number; retried: number; rateLimited: number }>;

export function createMetrics(
  options: { queueStats?: () => Promise<QueueStats>; deliveryStats?: () => DeliveryStats; processMetrics?: boolean } = {},
) {
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
    /** Call when an update was handled; `startedAt` from performance.now(). */
    updateHandled(channel: string, outcome: 'ok' | 'duplicate' | 'error', startedAt: number) {
      updates.inc({ channel, outcome });
      if (outcome !== 'duplicate') handling.observe({ channel }, (performance.now() - startedAt) / 1000);
    },
    /** The text a Prometheus server scrapes. */
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
