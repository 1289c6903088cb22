/**
 * The Telegram transport: grammY with auto-retry, long polling or a webhook.
 * It turns updates into Inbound, hands them to the core, and sends the replies. No rules here.
 */
import { Api, Bot, GrammyError, HttpError, InputFile } from 'grammy';
import { classifyTelegramError } from './errors.js';
import { autoRetry } from '@grammyjs/auto-retry';
import type { Update } from 'grammy/types';
import type { Outbound } from '../../core/messages.js';
import type { Logger } from '../../logger.js';
import { telegramToInbound } from './to-inbound.js';
import { renderTelegram } from './render.js';
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
  /** Stored photos (`PhotoRef.mediaId`) are uploaded from here. */
  loadMedia?(id: string): Promise<{ bytes: Uint8Array; mime: string } | null>;
}

export function createTelegramChannel(options: TelegramChannelOptions): ChannelRuntime & {
  bot: Bot;
  fetchPhoto(fileId: string): Promise<{ bytes: Uint8Array; mime: string }>;
  handleWebhookUpdate(update: unknown): void;
  webhookSecret?: string;
} {
  const { logger } = options;
  const bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
  // Honour 429 retry_after and retry transient network failures for direct replies.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60 }));
  let mode: 'polling' | 'webhook' | 'off' = 'off';

  // The delivery worker paces itself and handles 429 per row: it uses an Api without auto-retry.
  const workerApi = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds: 30 });

  async function photoInput(photo: string): Promise<string | InputFile> {
    if (!photo.startsWith('media:')) return photo;
    const media = await options.loadMedia?.(photo.slice('media:'.length));
    if (!media) throw new Error('stored photo not found');
    return new InputFile(media.bytes, 'photo.jpg');
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

  bot.use(async (ctx) => {
    const inbound = telegramToInbound(ctx.update);
    if (ctx.callbackQuery) {
      // Stop the button's spinner at once; the answer comes as a new message.
      await ctx.answerCallbackQuery().catch((error) => logger.warn('telegram answerCallbackQuery failed', { error }));
    }
    if (!inbound) return;
    const replies = await options.handle(inbound);
    for (const reply of replies) await send(inbound.chatId, reply);
  });

  bot.catch((err) => {
    const error = err.error;
    const where = error instanceof GrammyError ? `Telegram refused (${error.error_code}: ${error.description})` : error instanceof HttpError ? 'network error talking to Telegram' : 'our code failed';
    logger.error(`telegram update ${err.ctx.update.update_id}: ${where}`, { error });
  });

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
    async fetchPhoto(fileId: string): Promise<{ bytes: Uint8Array; mime: string }> {
      const file = await bot.api.getFile(fileId);
      if (!file.file_path) throw new Error('telegram gave no file path');
      const res = await fetch(`${options.apiRoot}/file/bot${options.token}/${file.file_path}`, { signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`telegram file download answered ${res.status}`);
      return { bytes: new Uint8Array(await res.arrayBuffer()), mime: res.headers.get('content-type')?.startsWith('image/') ? res.headers.get('content-type')! : 'image/jpeg' };
    },
    async start() {
      // One bounded attempt (no auto-retry): a wrong token or an unreachable server is reported at once.
      if (!bot.isInited()) bot.botInfo = await workerApi.getMe();
      for (const set of options.commands) {
        // The command menu is a convenience: a Bot API server that refuses it does not stop the bot.
        await bot.api
          .setMyCommands(set.commands, set.languageCode ? { language_code: set.languageCode as 'en' } : {})
          .catch((error) => logger.warn('telegram setMyCommands failed; commands still work when typed', { error }));
      }
      if (options.publicUrl) {
        await bot.api.setWebhook(`${options.publicUrl}/webhooks/telegram`, {
          secret_token: options.webhookSecret,
          allowed_updates: ['message', 'callback_query'],
        });
        mode = 'webhook';
        return `webhook at ${options.publicUrl}/webhooks/telegram (bot @${bot.botInfo.username})`;
      }
      // bot.start() deletes any webhook, then long-polls until stop().
      void bot
        .start({ allowed_updates: ['message', 'callback_query'], onStart: () => logger.debug('telegram polling started') })
        .catch((error) => logger.error('telegram polling stopped with an error', { error }));
      mode = 'polling';
      return `long polling (bot @${bot.botInfo.username})`;
    },
    async stop() {
      if (mode === 'polling' && bot.isRunning()) await bot.stop();
      mode = 'off';
    },
    handleWebhookUpdate(update: unknown) {
      // Answered 200 already; repeated deliveries are dropped by the core's update ids.
      void bot.handleUpdate(update as Update).catch((error) => logger.error('telegram webhook update failed', { error }));
    },
  };
}
