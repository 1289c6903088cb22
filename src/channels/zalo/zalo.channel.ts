/**
 * The Zalo transport: the project's own client, long polling or a webhook, repeated
 * updates dropped, replies rendered as numbered lists. No rules here.
 */
import type { Outbound } from '../../core/messages.js';
import type { Logger } from '../../logger.js';
import type { ChannelRuntime, InboundHandler } from '../channel.js';
import { createZaloClient, type ZaloClient } from './zalo-client.js';
import { createUpdateDeduplicator, parseZaloUpdate, zaloToInbound } from './to-inbound.js';
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
}

export function createZaloChannel(options: ZaloChannelOptions): ChannelRuntime & {
  client: ZaloClient;
  fetchPhoto(url: string): Promise<{ bytes: Uint8Array; mime: string }>;
  webhookSecret?: string;
  handleWebhookBody(body: unknown): boolean;
} {
  const { logger } = options;
  const client = createZaloClient({ token: options.token, apiRoot: options.apiRoot, log: logger });
  const dedup = createUpdateDeduplicator();
  let polling: ZaloPolling | undefined;
  let mode: 'polling' | 'webhook' | 'off' = 'off';

  async function send(chatId: string, out: Outbound): Promise<string[]> {
    const ids: string[] = [];
    for (const call of renderZalo(out, options.publicUrl)) {
      if (call.method === 'sendPhoto') ids.push(String((await client.sendPhoto(chatId, call.photo, call.caption)).message_id));
      else ids.push(...(await client.sendText(chatId, call.text)));
    }
    return ids;
  }

  async function onUpdate(body: unknown): Promise<void> {
    const update = parseZaloUpdate(body);
    if (!update) return;
    const inbound = zaloToInbound(update);
    if (!inbound || dedup.seen(`${inbound.updateId}`)) return;
    const replies = await options.handle(inbound);
    for (const reply of replies) await send(inbound.chatId, reply);
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
    async fetchPhoto(url: string): Promise<{ bytes: Uint8Array; mime: string }> {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`zalo photo download answered ${res.status}`);
      const type = res.headers.get('content-type') ?? '';
      return { bytes: new Uint8Array(await res.arrayBuffer()), mime: type.startsWith('image/') ? type : 'image/jpeg' };
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
    handleWebhookBody(body: unknown): boolean {
      if (!parseZaloUpdate(body)) return false;
      void onUpdate(body).catch((error) => logger.error('zalo webhook update failed', { error }));
      return true;
    },
  };
}
