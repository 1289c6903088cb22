/**
 * Telegram Update -> Inbound. Anything we cannot use becomes "unsupported", never an error.
 *
 * The parts of an update we read are checked with zod first (L6): an update with the right
 * webhook secret but wrong types (a numeric `callback_query.data`, a `text` object, a string
 * user id) is ignored as a whole, so it can never reach a flow or cause an internal-error reply.
 */
import * as z from 'zod';
import type { Update } from 'grammy/types';
import { parseCommand, type Inbound, type InboundPayload } from '../../core/messages.js';
import { guardInbound } from '../../core/abuse/inbound-guard.js';

const user = z.looseObject({
  id: z.number().int().positive(),
  is_bot: z.boolean().optional(),
  first_name: z.string().max(1024).optional(),
  last_name: z.string().max(1024).optional(),
  username: z.string().max(256).optional(),
  language_code: z.string().max(35).optional(),
});
const chat = z.looseObject({ id: z.number().int(), type: z.string() });

const message = z.looseObject({
  from: user.optional(),
  chat,
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(z.looseObject({ file_id: z.string().min(1).max(256) })).optional(),
  location: z.looseObject({ latitude: z.number().finite(), longitude: z.number().finite() }).optional(),
  contact: z.looseObject({ phone_number: z.string().max(64) }).optional(),
});

const update = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: message.optional(),
  callback_query: z
    .looseObject({
      from: user,
      data: z.string().max(256).optional(),
      message: z.looseObject({ chat }).optional(),
    })
    .optional(),
});

type CheckedUser = z.infer<typeof user>;
type CheckedChat = z.infer<typeof chat>;
type CheckedMessage = z.infer<typeof message>;

export function telegramToInbound(raw: Update | unknown): Inbound | undefined {
  const parsed = update.safeParse(raw);
  if (!parsed.success) return undefined;
  const u = parsed.data;
  const updateId = String(u.update_id);
  if (u.callback_query) {
    const q = u.callback_query;
    const chatOf = q.message?.chat ?? { id: q.from.id, type: 'private' };
    return guardInbound({ ...base(q.from, chatOf, updateId), kind: 'choice', choice: q.data ?? '' });
  }
  const m = u.message;
  if (!m || !m.from) return undefined;
  return guardInbound({ ...base(m.from, m.chat, updateId), ...payloadOf(m) });
}

function base(from: CheckedUser, chatOf: CheckedChat, updateId: string) {
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ').trim();
  return {
    channel: 'telegram' as const,
    accountId: String(from.id),
    chatId: String(chatOf.id),
    chatType: chatOf.type === 'private' ? ('private' as const) : ('group' as const),
    updateId,
    displayName: name || undefined,
    username: from.username,
    languageCode: from.language_code,
  };
}

function payloadOf(m: CheckedMessage): InboundPayload {
  if (typeof m.text === 'string') {
    const command = m.text.startsWith('/') ? parseCommand(m.text) : undefined;
    return command ? { kind: 'command', ...command } : { kind: 'text', text: m.text };
  }
  if (m.photo?.length) {
    const largest = m.photo[m.photo.length - 1]!;
    return { kind: 'photo', photo: { fileId: largest.file_id }, caption: m.caption };
  }
  if (m.location) return { kind: 'location', latitude: m.location.latitude, longitude: m.location.longitude };
  if (m.contact) return { kind: 'contact', phone: m.contact.phone_number };
  // What it was, so the core can say what it cannot read: a voice note and a sent audio file are both "voice".
  const what = m.sticker ? 'sticker' : m.voice || m.audio ? 'voice' : m.video || m.video_note || m.animation ? 'video' : m.document ? 'document' : 'other';
  return { kind: 'unsupported', what };
}
