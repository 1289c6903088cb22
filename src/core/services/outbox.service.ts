/**
 * Writes delivery rows (the outbox) inside the caller's transaction, rendered in each
 * recipient's language, to the account they use most. Workers send them afterwards.
 */
import type { Outbound } from '../messages.js';
import type { Locale, Translator } from '../ports/translator.js';
import { asLocale } from '../ports/translator.js';
import type { Db } from './db.js';
import { insertDeliveries } from '../../persistence/outbox-store.js';

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

/**
 * The rows themselves are written by the persistence layer (one statement per 1,000 rows on
 * SQLite, createMany on PostgreSQL): services and the reply sink call it inside their transaction.
 */
export { insertDeliveries, type DeliveryInsert } from '../../persistence/outbox-store.js';
