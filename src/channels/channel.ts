/** What every channel transport offers the composition root and the delivery worker. */
import type { Inbound, Outbound } from '../core/messages.js';
import type { SendFailure } from '../delivery/send-outcome.js';

export type InboundHandler = (inbound: Inbound) => Promise<Outbound[]>;

export interface ChannelRuntime {
  readonly name: 'telegram' | 'zalo' | 'web';
  readonly mode: 'polling' | 'webhook' | 'off' | 'on';
  /** Starts receiving; returns a one-line description of how ("long polling", "webhook at ..."). */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Sends one Outbound to a chat (direct replies: transient errors retried); returns the platform message ids. */
  send(chatId: string, out: Outbound): Promise<string[]>;
  /** The same for the delivery worker: one attempt, errors thrown for `classifyError`. */
  deliver(chatId: string, out: Outbound): Promise<string[]>;
  classifyError(error: unknown): SendFailure;
  /** Replaces the text and buttons of a message the bot sent (Telegram only; others cannot edit). */
  edit?(chatId: string, messageId: string, out: Outbound): Promise<void>;
  /** Group chats have their own, slower limit. */
  isGroupChat(chatId: string): boolean;
}
