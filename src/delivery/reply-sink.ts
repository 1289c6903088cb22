/**
 * Where the core's direct replies go, inside the transaction that records a message as handled:
 * - Telegram and Zalo: outbox rows (kind "reply"), sent by the channel's delivery worker under the
 *   platform's limits, in one order per chat with the notifications, retried on 429 and network
 *   errors until delivered or refused for good;
 * - the web chat: straight into its inbox (the page fetches them; nothing to pace).
 * When this instance sends for the channel and nothing of it is queued, a reply skips the queue's
 * claim: it is stored claimed by the sender and handed to it in memory after the commit (`handOver`).
 */
import type { Outbound } from '../core/messages.js';
import type { ReplySink } from '../core/services/conversation.service.js';
import { insertDeliveries, type Tx } from '../core/services/outbox.service.js';
import { deliveryId } from '../persistence/outbox-store.js';
import type { DeliveryRow } from '../persistence/hot-path.js';
import { currentTraceId } from '../observability/trace.js';

export interface ReplySinkOptions {
  /** Stores replies for a channel that has its own inbox (the web chat) inside `tx`. */
  inboxes?: Record<string, (tx: Tx, chatId: string, replies: Outbound[]) => Promise<unknown>>;
  /** The senders running on this instance (delivery-worker.ts), to hand direct replies to. */
  handOver?: {
    /** The claimer id of the channel's sender when it takes rows now; undefined otherwise. */
    claimer(channel: string): string | undefined;
    /** Committed rows stored claimed by that sender. */
    adopt(rows: DeliveryRow[]): void;
  };
}

export function createReplySink(options: ReplySinkOptions = {}): ReplySink {
  return {
    async write(tx, to, replies) {
      const inbox = options.inboxes?.[to.channel];
      if (inbox) {
        await inbox(tx, to.chatId, replies);
        return new Set<string>();
      }
      await insertDeliveries(
        tx,
        replies.map((reply) => ({ kind: 'reply', channel: to.channel, accountId: to.accountId, chatId: to.chatId, payload: JSON.stringify(reply), alertId: null })),
      );
      return new Set([to.channel]);
    },
    // The same outbox rows for the hot path's one transaction (src/persistence/hot-path.ts).
    rows(to, replies) {
      if (options.inboxes?.[to.channel]) return undefined;
      const traceId = currentTraceId() ?? null;
      const claimedBy = options.handOver?.claimer(to.channel);
      return replies.map((reply) => ({ id: deliveryId(), kind: 'reply', channel: to.channel, accountId: to.accountId, chatId: to.chatId, payload: JSON.stringify(reply), traceId, claimedBy }));
    },
    handedOver(rows) {
      options.handOver?.adopt(rows);
    },
  };
}
