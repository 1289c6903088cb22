/** What every channel transport offers the composition root and the delivery worker. */
import type { Inbound, Outbound } from '../core/messages.js';

export type InboundHandler = (inbound: Inbound) => Promise<Outbound[]>;

export interface ChannelRuntime {
  readonly name: 'telegram' | 'zalo' | 'web';
  readonly mode: 'polling' | 'webhook' | 'off' | 'on';
  /** Starts receiving; returns a one-line description of how ("long polling", "webhook at ..."). */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** Sends one Outbound to a chat; returns the platform message ids. */
  send(chatId: string, out: Outbound): Promise<string[]>;
}
