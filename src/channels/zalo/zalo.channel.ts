/**
 * The Zalo transport: the project's own client, long polling or a webhook, repeated
 * updates dropped, replies rendered as numbered lists. No rules here.
 *
 * The core commits each update's effects and queues its replies (sent by the paced delivery
 * worker); a webhook is answered only after that commit, so a crash before it leaves the update
 * for Zalo's retry. Repeats are recognised by the core's record of handled updates.
 */
import type { Readable } from 'node:stream';
import type { Outbound } from '../../core/messages.js';
import { fencedGet, type FetchFence } from '../../media/fenced-fetch.js';
import type { Logger } from '../../logger.js';
import type { ChannelRuntime, InboundHandler } from '../channel.js';
import { createZaloClient, type ZaloClient } from './zalo-client.js';
import { parseZaloUpdate, zaloToInbound } from './to-inbound.js';
import { startZaloPolling, type ZaloPolling } from './zalo-polling.js';
import { renderZalo } from './render.js';
import { classifyZaloError } from './errors.js';

export interface ZaloChannelOptions {
  token: string;
  apiRoot: string;
  webhookSecret?: string;
  publicUrl?: string;
  handle: InboundHandler;
  logger: Logger;
  pollTimeoutSeconds?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** A short-lived signed path (`/media/<id>?exp=..&sig=..`) for a stored photo, minted when it is sent. */
  mediaLink?(mediaId: string): Promise<string | undefined>;
}

export function createZaloChannel(options: ZaloChannelOptions): ChannelRuntime & {
  client: ZaloClient;
  fetchPhoto(url: string, fence: Omit<FetchFence, 'apiRoot'>): Promise<Readable>;
  webhookSecret?: string;
  /** Resolves once the update's effects are committed (then the webhook may answer 200). */
  handleWebhookBody(body: unknown): Promise<boolean>;
} {
  const { logger } = options;
  const client = createZaloClient({ token: options.token, apiRoot: options.apiRoot, log: logger });
  let polling: ZaloPolling | undefined;
  let mode: 'polling' | 'webhook' | 'off' = 'off';

  /** Zalo fetches photos by URL: a stored one gets a link valid 15 minutes, minted now for this recipient. */
  async function withPhotoLink(out: Outbound): Promise<Outbound> {
    if (!out.photo?.mediaId) return out;
    const link = await options.mediaLink?.(out.photo.mediaId);
    return { ...out, photo: link ? { url: link } : undefined };
  }

  async function send(chatId: string, out: Outbound): Promise<string[]> {
    const ids: string[] = [];
    for (const call of renderZalo(await withPhotoLink(out), options.publicUrl)) {
      if (call.method === 'sendPhoto') ids.push(String((await client.sendPhoto(chatId, call.photo, call.caption)).message_id));
      else ids.push(...(await client.sendText(chatId, call.text)));
    }
    return ids;
  }

  async function onUpdate(body: unknown): Promise<void> {
    const update = parseZaloUpdate(body);
    if (!update) return;
    const inbound = zaloToInbound(update);
    if (!inbound) return;
    await options.handle(inbound);
  }

  return {
    name: 'zalo',
    client,
    webhookSecret: options.webhookSecret,
    get mode() {
      return mode;
    },
    send,
    deliver: send,
    classifyError: classifyZaloError,
    isGroupChat: () => false,
    /** Zalo photo URLs expire: fetch a copy while it is valid. */
    async fetchPhoto(url: string, fence: Omit<FetchFence, 'apiRoot'>): Promise<Readable> {
      // Fenced (review M2): allowed https hosts or the API root's own host, no redirects, no private addresses, a byte limit.
      return fencedGet(url, { ...fence, apiRoot: options.apiRoot });
    },
    async start() {
      const me = await client.getMe();
      if (options.publicUrl) {
        await client.setWebhook(`${options.publicUrl}/webhooks/zalo`, options.webhookSecret ?? '');
        mode = 'webhook';
        return `webhook at ${options.publicUrl}/webhooks/zalo (bot ${me.account_name})`;
      }
      polling = startZaloPolling({
        client,
        onUpdate: (update) => onUpdate(update),
        pollTimeoutSeconds: options.pollTimeoutSeconds ?? 30,
        log: logger,
        backoff: options.backoff,
      });
      mode = 'polling';
      return `long polling (bot ${me.account_name})`;
    },
    async stop() {
      await polling?.stop();
      polling = undefined;
      mode = 'off';
    },
    /** Takes a webhook body already authenticated; false when it is not a Zalo update. */
    async handleWebhookBody(body: unknown): Promise<boolean> {
      if (!parseZaloUpdate(body)) return false;
      await onUpdate(body);
      return true;
    },
  };
}
