/** Telegram Update -> Inbound. Anything we cannot use becomes "unsupported", never an error. */
import type { Update, User, Chat } from 'grammy/types';
import { parseCommand, type Inbound, type InboundPayload } from '../../core/messages.js';

export function telegramToInbound(update: Update): Inbound | undefined {
  const updateId = String(update.update_id);
  if (update.callback_query) {
    const q = update.callback_query;
    const chat = q.message?.chat;
    return {
      ...base(q.from, chat ?? { id: q.from.id, type: 'private', first_name: q.from.first_name }, updateId),
      kind: 'choice',
      choice: q.data ?? '',
    };
  }
  const message = update.message;
  if (!message || !message.from) return undefined;
  return { ...base(message.from, message.chat, updateId), ...payloadOf(message) };
}

function base(from: User, chat: Chat, updateId: string) {
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ').trim();
  return {
    channel: 'telegram' as const,
    accountId: String(from.id),
    chatId: String(chat.id),
    chatType: chat.type === 'private' ? ('private' as const) : ('group' as const),
    updateId,
    displayName: name || undefined,
    username: from.username,
    languageCode: from.language_code,
  };
}

type TelegramMessage = NonNullable<Update['message']>;

function payloadOf(message: TelegramMessage): InboundPayload {
  if (typeof message.text === 'string') {
    const command = message.text.startsWith('/') ? parseCommand(message.text) : undefined;
    return command ? { kind: 'command', ...command } : { kind: 'text', text: message.text };
  }
  if (message.photo?.length) {
    const largest = message.photo[message.photo.length - 1]!;
    return { kind: 'photo', photo: { fileId: largest.file_id }, caption: message.caption };
  }
  if (message.location) return { kind: 'location', latitude: message.location.latitude, longitude: message.location.longitude };
  if (message.contact) return { kind: 'contact', phone: message.contact.phone_number };
  const what = message.sticker ? 'sticker' : message.voice ? 'voice' : message.video ? 'video' : message.document ? 'document' : 'other';
  return { kind: 'unsupported', what };
}
