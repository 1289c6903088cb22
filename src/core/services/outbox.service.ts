/**
 * Writes delivery rows (the outbox) inside the caller's transaction, rendered in each
 * recipient's language, to the account they use most. Workers send them afterwards.
 */
import type { Outbound } from '../messages.js';
import type { Locale, Translator } from '../ports/translator.js';
import { asLocale } from '../ports/translator.js';
import { isSqlite, type Db } from './db.js';

/** A Prisma transaction client (or the client itself). */
export type Tx = Omit<Db, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export interface Recipient {
  personId: string;
  locale: Locale;
  account: { id: string; channel: string; chatId: string };
}

export function createOutbox(deps: { translator: Translator; onQueued?: (channels: Set<string>) => void }) {
  return {
    /** The reachable account each person used last, with their language; people without one are left out. */
    async recipients(tx: Tx, personIds: string[]): Promise<Recipient[]> {
      if (!personIds.length) return [];
      const people = await tx.person.findMany({
        where: { id: { in: [...new Set(personIds)] }, deletedAt: null },
        include: { accounts: { where: { unreachableAt: null }, orderBy: { lastSeenAt: 'desc' }, take: 1 } },
      });
      return people
        .filter((p) => p.accounts.length > 0)
        .map((p) => ({
          personId: p.id,
          locale: asLocale(p.locale, deps.translator.defaultLocale),
          account: { id: p.accounts[0]!.id, channel: p.accounts[0]!.channel, chatId: p.accounts[0]!.chatId },
        }));
    },

    /** Queues one message per recipient, each rendered by `render` in that recipient's language. */
    async enqueue(
      tx: Tx,
      kind: string,
      recipients: Recipient[],
      render: (t: (key: string, params?: Record<string, unknown>) => string, r: Recipient) => Outbound,
      extra: { alertId?: string } = {},
    ): Promise<Set<string>> {
      const channels = new Set<string>();
      if (!recipients.length) return channels;
      await insertDeliveries(
        tx,
        recipients.map((r) => {
          channels.add(r.account.channel);
          const t = (key: string, params?: Record<string, unknown>) => deps.translator.t(r.locale, key, params);
          return {
            kind,
            channel: r.account.channel,
            accountId: r.account.id,
            chatId: r.account.chatId,
            payload: JSON.stringify(withHint(render(t, r), t)),
            alertId: extra.alertId ?? null,
          };
        }),
      );
      return channels;
    },

    /** Tell the workers after the transaction committed. */
    notify(channels: Set<string>) {
      if (channels.size) deps.onQueued?.(channels);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

/** Messages with choices carry the "type a number" hint, which Zalo shows above its numbered list. */
export function withHint(out: Outbound, t: (key: string) => string): Outbound {
  return out.choices?.length && !out.hint ? { ...out, hint: t('common:numberedHint') } : out;
}

/** One outbox row to write (rendered payload JSON). */
export interface DeliveryInsert {
  kind: string;
  channel: string;
  accountId: string | null;
  chatId: string;
  payload: string;
  alertId: string | null;
}

let idSeq = 0;
/** Row ids that sort in the order they were made (the queue breaks createdAt ties by id). */
function deliveryId(): string {
  idSeq = (idSeq + 1) % 36 ** 5;
  return `d${Date.now().toString(36).padStart(9, '0')}${idSeq.toString(36).padStart(5, '0')}${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

/**
 * Writes outbox rows, queued and due now, in the given order, with one statement per 1,000 rows:
 * the rows go in as a JSON parameter and SQLite unpacks them (json_each). Prisma's createMany
 * costs about half a millisecond of CPU per row (a 10,000-recipient alert took 4-7 s to confirm);
 * this takes 0.15-0.3 s for 10,000 rows. Identical payloads (an alert rendered once per language)
 * are passed once per statement. On PostgreSQL it is Prisma's createMany. Call it inside the
 * caller's transaction.
 */
export async function insertDeliveries(tx: Tx, rows: DeliveryInsert[], now = new Date()): Promise<number> {
  if (!rows.length) return 0;
  if (!isSqlite(tx)) return (await tx.delivery.createMany({ data: rows })).count;
  let inserted = 0;
  // Chunks keep each statement's parameter small: Prisma copies parameters through its query
  // compiler's WebAssembly memory, which never shrinks (one 10,000-row statement: +35 MB RSS).
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const payloads: string[] = [];
    const payloadIndex = new Map<string, number>();
    const data = rows.slice(start, start + INSERT_CHUNK).map((r) => {
      let p = payloadIndex.get(r.payload);
      if (p === undefined) {
        p = payloads.length;
        payloads.push(r.payload);
        payloadIndex.set(r.payload, p);
      }
      return [deliveryId(), r.kind, r.channel, r.accountId, r.chatId, p, r.alertId];
    });
    inserted += await tx.$executeRawUnsafe(
      `WITH p AS MATERIALIZED (SELECT key, value FROM json_each(?))
       INSERT INTO "Delivery" ("id", "kind", "channel", "accountId", "chatId", "payload", "alertId", "status", "attempts", "nextAttemptAt", "createdAt")
       SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, p.value, r.value ->> 6, 'queued', 0, ?, ?
       FROM json_each(?) AS r JOIN p ON p.key = (r.value ->> 5)
       ORDER BY r.key`,
      JSON.stringify(payloads),
      now,
      now,
      JSON.stringify(data),
    );
  }
  return inserted;
}

const INSERT_CHUNK = 1000;
