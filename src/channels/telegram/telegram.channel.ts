/**
 * The Telegram transport: grammY's Bot API client, long polling or a webhook.
 * It turns updates into Inbound and hands them to the core, which commits the update's effects
 * and queues its replies for the paced delivery worker. No rules here.
 *
 * Nothing acknowledged is lost: a webhook is answered 200 only after the core committed the
 * update, and long polling moves its offset (which confirms updates to Telegram) past a batch
 * only after every update in it was committed. A repeat after a crash is recognised by its id.
 */
import { Api, Bot, GrammyError, HttpError, InputFile } from 'grammy';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { fencedGet, type FetchFence } from '../../media/fenced-fetch.js';
import { classifyTelegramError } from './errors.js';
import { autoRetry } from '@grammyjs/auto-retry';
import type { Update } from 'grammy/types';
import type { Outbound } from '../../core/messages.js';
import type { Logger } from '../../logger.js';
import { telegramToInbound } from './to-inbound.js';
import { renderTelegram } from './render.js';
import { plainFetch } from './plain-fetch.js';
import type { ChannelRuntime, InboundHandler } from '../channel.js';

export interface TelegramChannelOptions {
  token: string;
  apiRoot: string;
  webhookSecret?: string;
  /** https base URL: webhook mode when set, long polling otherwise. */
  publicUrl?: string;
  handle: InboundHandler;
  logger: Logger;
  /** Commands to register with setMyCommands, per language ("" = default). */
  commands: { languageCode: string; commands: { command: string; description: string }[] }[];
  /** Seconds each getUpdates call waits on the server (long polling). Default 30. */
  pollTimeoutSeconds?: number;
  /** Stored photos (`PhotoRef.mediaId`) are uploaded from here. */
  loadMedia?(id: string): Promise<{ path?: string; bytes?: Uint8Array } | null>;
}

export function createTelegramChannel(options: TelegramChannelOptions): ChannelRuntime & {
  bot: Bot;
  fetchPhoto(fileId: string, fence: Omit<FetchFence, 'apiRoot'>): Promise<Readable>;
  /** Resolves once the update's effects are committed (then the webhook may answer 200). */
  handleWebhookUpdate(update: unknown): Promise<void>;
  webhookSecret?: string;
} {
  const { logger } = options;
  const bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
  // Honour 429 retry_after and retry transient network failures for direct replies.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));
  let mode: 'polling' | 'webhook' | 'off' = 'off';

  // The delivery worker paces itself and handles 429 per row: it uses an Api without auto-retry.
  // Its requests go through plainFetch (plain node:http, not node-fetch): one per reply sent.
  const workerApi = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds: 30, fetch: plainFetch as unknown as typeof fetch });

  async function photoInput(photo: string): Promise<string | InputFile> {
    if (!photo.startsWith('media:')) return photo;
    const media = await options.loadMedia?.(photo.slice('media:'.length));
    if (!media) throw new Error('stored photo not found');
    // Streamed from the re-encoded file (no metadata): never read whole into memory.
    return new InputFile(media.path ? createReadStream(media.path) : media.bytes!, 'photo.jpg');
  }

  async function sendWith(api: Api, chatId: string, out: Outbound): Promise<string[]> {
    const ids: string[] = [];
    for (const call of renderTelegram(out)) {
      const message =
        call.method === 'sendPhoto'
          ? await api.sendPhoto(chatId, await photoInput(call.photo), { caption: call.caption, reply_markup: call.reply_markup })
          : await api.sendMessage(chatId, call.text, { reply_markup: call.reply_markup });
      ids.push(String(message.message_id));
    }
    return ids;
  }
  const send = (chatId: string, out: Outbound) => sendWith(bot.api, chatId, out);

  /**
   * One update: the core commits its effects and queues its replies (sent by the delivery
   * worker, paced and in order per chat). Resolves once committed; rejects when it could not be
   * (the update is then delivered again: webhook retry, or the poll offset stays put).
   */
  async function processUpdate(update: Update): Promise<void> {
    const callbackId = (update as { callback_query?: { id?: unknown } }).callback_query?.id;
    if (typeof callbackId === 'string') {
      // Stop the button's spinner at once; the answer comes as a new message.
      await workerApi.answerCallbackQuery(callbackId).catch((error) => logger.warn(`telegram answerCallbackQuery failed: ${describeError(error)}`));
    }
    const inbound = telegramToInbound(update);
    if (!inbound) return;
    await options.handle(inbound);
  }

  /** Long polling with our own getUpdates loop, so an offset is confirmed only after its batch is committed. */
  function startPolling(): { stop(): Promise<void> } {
    const controller = new AbortController();
    const { signal } = controller;
    const timeout = options.pollTimeoutSeconds ?? 30;
    const pollApi = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds: timeout + 15 });
    const done = (async () => {
      let offset = 0;
      let failures = 0;
      let batchFailures = 0;
      while (!signal.aborted) {
        let updates: Update[];
        try {
          updates = await pollApi.getUpdates({ offset, timeout, allowed_updates: ['message', 'callback_query'] }, signal as Parameters<Api['getUpdates']>[1]);
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          const delay = telegramPollDelay(error, failures++);
          logger.warn(`telegram getUpdates failed (${failures} in a row), retrying in ${delay} ms: ${describeError(error)}`);
          await sleep(delay, signal);
          continue;
        }
        if (!updates.length) continue;
        // People in parallel, each person's updates in order (the core queues per account).
        const results = await Promise.allSettled(updates.map((u) => processUpdate(u)));
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed.length && !signal.aborted) {
          batchFailures++;
          if (batchFailures < 10) {
            // Not confirmed: the same batch comes again; what was committed is recognised and skipped.
            logger.error(`telegram: ${failed.length} update(s) could not be handled; fetching the batch again`, { error: failed[0]!.reason });
            await sleep(Math.min(30_000, 500 * 2 ** batchFailures), signal);
            continue;
          }
          logger.error(`telegram: ${failed.length} update(s) failed 10 times; skipping them`, { error: failed[0]!.reason });
        }
        if (signal.aborted) break;
        batchFailures = 0;
        offset = updates[updates.length - 1]!.update_id + 1;
      }
    })().catch((error) => logger.error('telegram polling stopped with an error', { error }));
    return {
      async stop() {
        controller.abort();
        await done;
      },
    };
  }
  let polling: { stop(): Promise<void> } | undefined;

  return {
    name: 'telegram',
    bot,
    webhookSecret: options.webhookSecret,
    get mode() {
      return mode;
    },
    send,
    deliver: (chatId, out) => sendWith(workerApi, chatId, out),
    async edit(chatId, messageId, out) {
      const [call] = renderTelegram({ ...out, photo: undefined }).filter((c) => c.method === 'sendMessage');
      if (!call || call.method !== 'sendMessage') return;
      try {
        await workerApi.editMessageText(chatId, Number(messageId), call.text.slice(0, 4096), {
          reply_markup: call.reply_markup && 'inline_keyboard' in call.reply_markup ? call.reply_markup : undefined,
        });
      } catch (error) {
        // Telegram refuses an edit that changes nothing; that is not a failure.
        if (!(error instanceof GrammyError && /message is not modified/.test(error.description))) throw error;
      }
    },
    classifyError: classifyTelegramError,
    isGroupChat: (chatId) => chatId.startsWith('-'),
    /** Downloads a photo a person sent (file ids are only usable through getFile). */
    async fetchPhoto(fileId: string, fence: Omit<FetchFence, 'apiRoot'>): Promise<Readable> {
      const file = await bot.api.getFile(fileId);
      if (!file.file_path) throw new Error('telegram gave no file path');
      // Fenced: the API root's own host (or an allowed https host), no redirects, a streamed byte limit.
      return fencedGet(`${options.apiRoot}/file/bot${options.token}/${file.file_path}`, { ...fence, apiRoot: options.apiRoot });
    },
    async start() {
      // One bounded attempt each (no auto-retry): a wrong token or an unreachable server is reported
      // at once. The calls go out together: starting costs one round trip to the server, not four.
      const identify = bot.isInited() ? Promise.resolve() : workerApi.getMe().then((me) => void (bot.botInfo = me));
      // The command menu is a convenience: a Bot API server that refuses it does not stop the bot.
      const menus = options.commands.map((set) =>
        workerApi
          .setMyCommands(set.commands, set.languageCode ? { language_code: set.languageCode as 'en' } : {})
          .catch((error) => logger.warn('telegram setMyCommands failed; commands still work when typed', { error })),
      );
      if (options.publicUrl) {
        const hook = workerApi.setWebhook(`${options.publicUrl}/webhooks/telegram`, {
          secret_token: options.webhookSecret,
          allowed_updates: ['message', 'callback_query'],
        });
        await settleAll([identify, hook, ...menus]);
        mode = 'webhook';
        return `webhook at ${options.publicUrl}/webhooks/telegram (bot @${bot.botInfo.username})`;
      }
      // Polling and a webhook exclude each other: remove any webhook (keeping its pending updates), then poll.
      await settleAll([identify, workerApi.deleteWebhook({ drop_pending_updates: false }), ...menus]);
      polling = startPolling();
      mode = 'polling';
      return `long polling (bot @${bot.botInfo.username})`;
    },
    async stop() {
      await polling?.stop();
      polling = undefined;
      mode = 'off';
    },
    async handleWebhookUpdate(update: unknown) {
      // The webhook answers only after this resolves; repeated deliveries are dropped by the core's update ids.
      await processUpdate(update as Update);
    },
  };
}

/** Waits for every call (none is left running behind a failure), then throws the first failure. */
async function settleAll(calls: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(calls)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function describeError(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code}: ${error.description}`;
  if (error instanceof HttpError) return `network error: ${String((error.error as Error | undefined)?.message ?? error.message)}`;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long to wait before polling again after a failed getUpdates: retry_after on 429, else backoff (1 s to 30 s). */
function telegramPollDelay(error: unknown, failures: number): number {
  const backoff = Math.min(30_000, 1000 * 2 ** failures);
  if (error instanceof GrammyError && error.error_code === 429) return Math.max(backoff, (error.parameters.retry_after ?? 1) * 1000);
  return backoff;
}
