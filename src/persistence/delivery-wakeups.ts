/**
 * Cross-instance wake-ups on PostgreSQL (LISTEN/NOTIFY): an instance that queued messages for a
 * channel whose sender runs elsewhere tells it at once, instead of leaving them to the sender's
 * next look at the queue (every 250 ms when idle). Only a hint: the outbox rows are the truth, and a
 * lost notification costs that quarter of a second, nothing more. One connection of its own per
 * instance; several schemas on one database (tests) are told apart by the payload. Wake-ups asked
 * for within a few milliseconds go out as one statement (under load, many updates share one).
 */
import type { Logger } from '../logger.js';

const CHANNEL = 'bot_delivery';
/** Wake-ups asked for within this window share one NOTIFY. */
const COALESCE_MS = 5;

export interface DeliveryWakeups {
  /** Tells the instances that send `channels` that rows are waiting (fire and forget). */
  notify(channels: Iterable<string>): void;
  close(): Promise<void>;
}

export async function createDeliveryWakeups(databaseUrl: string, onWake: (channel: string) => void, logger: Logger): Promise<DeliveryWakeups> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  const { default: pg } = await import('pg');
  let client: InstanceType<typeof pg.Client> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url.toString() });
    c.on('notification', (n) => {
      const [forSchema, channels] = (n.payload ?? '').split('\n');
      if (forSchema === schema && channels) for (const channel of channels.split(',')) onWake(channel);
    });
    c.on('error', (error) => {
      logger.warn('delivery wake-ups: connection lost; reconnecting in 5 s', { error });
      if (client === c) client = undefined;
      c.end().catch(() => undefined);
      schedule();
    });
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    if (closed) {
      await c.end();
      return;
    }
    client = c;
  }
  function schedule() {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error) => {
        logger.warn('delivery wake-ups: cannot connect; trying again in 5 s', { error });
        schedule();
      });
    }, 5000);
    retry.unref();
  }

  await connect().catch((error) => {
    logger.warn('delivery wake-ups: cannot connect; senders elsewhere look at the queue on their own', { error });
    schedule();
  });

  const pending = new Set<string>();
  let sending: Promise<unknown> = Promise.resolve();
  let flush: NodeJS.Timeout | undefined;
  function send() {
    flush = undefined;
    const c = client;
    const channels = [...pending];
    pending.clear();
    if (!c || !channels.length) return;
    // One query at a time on the client (pg 9 will refuse a query while one runs): chained.
    const payload = `${schema}\n${channels.join(',')}`;
    sending = sending
      .then(() => c.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]))
      .catch((error) => logger.debug('delivery wake-up not sent', { error }));
  }

  return {
    notify(channels) {
      if (!client) return;
      for (const channel of channels) pending.add(channel);
      flush ??= setTimeout(send, COALESCE_MS);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (flush) clearTimeout(flush);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
