/** Outbound -> Telegram API calls: choices become an inline keyboard, long text is split. */
import type { InlineKeyboardMarkup, ReplyKeyboardMarkup } from 'grammy/types';
import type { Outbound } from '../../core/messages.js';
import { splitText } from '../split-text.js';

export const TELEGRAM_TEXT_LIMIT = 4096;
export const TELEGRAM_CAPTION_LIMIT = 1024;

export type TelegramCall =
  | { method: 'sendMessage'; text: string; reply_markup?: InlineKeyboardMarkup | ReplyKeyboardMarkup }
  | { method: 'sendPhoto'; photo: string; caption?: string; reply_markup?: InlineKeyboardMarkup };

export function renderTelegram(out: Outbound): TelegramCall[] {
  const keyboard: InlineKeyboardMarkup | undefined = out.choices?.length
    ? { inline_keyboard: out.choices.map((row) => row.map((c) => ({ text: c.label, callback_data: c.id }))) }
    : undefined;
  // A location request needs Telegram's reply keyboard; its other choices become text buttons,
  // which send their label as text (the flow accepts the label as the choice).
  // Location and contact requests need Telegram's reply keyboard; the other choices become text
  // buttons, which send their label as text (the flows accept the label as the choice).
  const request = out.askLocation
    ? { text: out.askLocation, request_location: true }
    : out.askContact
      ? { text: out.askContact, request_contact: true }
      : undefined;
  const markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | undefined = request
    ? {
        keyboard: [[request], ...(out.choices ?? []).map((row) => row.map((c) => ({ text: c.label })))],
        one_time_keyboard: true,
        resize_keyboard: true,
      }
    : keyboard;
  const calls: TelegramCall[] = [];
  const text = out.text;
  // A stored copy is uploaded by the channel ("media:<id>"); file ids and absolute URLs Telegram fetches itself.
  const photo = out.photo?.mediaId ? `media:${out.photo.mediaId}` : (out.photo?.fileId ?? (out.photo?.url?.startsWith('http') ? out.photo.url : undefined));
  if (photo) {
    if (text.length <= TELEGRAM_CAPTION_LIMIT) {
      return [{ method: 'sendPhoto', photo, caption: text || undefined, reply_markup: keyboard }];
    }
    calls.push({ method: 'sendPhoto', photo });
  }
  const pieces = splitText(text, TELEGRAM_TEXT_LIMIT);
  pieces.forEach((piece, i) => {
    calls.push({ method: 'sendMessage', text: piece, reply_markup: i === pieces.length - 1 ? markup : undefined });
  });
  return calls;
}
