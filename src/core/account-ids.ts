/**
 * What an account id looks like on each channel, for ids typed by an administrator
 * (`npm run admin -- grant …`, ADMIN_IDS). An id no channel can present is refused, so no
 * role waits on a string that will never write to the bot (L3).
 *
 * - Telegram: the numeric user id (a positive integer; Telegram's ids fit in 52 bits, so at
 *   most 20 digits leaves room).
 * - Zalo: the Bot Platform's `from.id`, an opaque hexadecimal string (20 characters in every
 *   payload we have seen, e.g. 6ede9afa66b88fe6d6a9); 8-32 hex digits are accepted, which
 *   also covers the numeric ids of older Zalo APIs.
 * - Web: the server-issued public id of a web chat account (letters, digits, `_` and `-`).
 *   It is never a credential, and a web id can only name an account that already exists.
 */
import type { Channel } from './messages.js';

const SHAPES: Record<Channel, RegExp> = {
  telegram: /^[1-9][0-9]{0,19}$/,
  zalo: /^[0-9a-fA-F]{8,32}$/,
  web: /^[A-Za-z0-9_-]{8,64}$/,
};

/** i18n-free descriptions for configuration errors (English, like every config message). */
export const ID_SHAPE_TEXT: Record<Channel, string> = {
  telegram: 'a Telegram user id is a positive whole number of up to 20 digits, such as 123456789',
  zalo: 'a Zalo user id is 8-32 hexadecimal characters, such as 6ede9afa66b88fe6d6a9',
  web: 'a web chat id is 8-64 characters of A-Z, a-z, 0-9, _ and -',
};

export function isAccountId(channel: Channel, id: string): boolean {
  return SHAPES[channel].test(id);
}

/** "telegram:123" -> { channel, id } when the channel is known (the id is not checked here). */
export function splitAccountRef(value: string): { channel: Channel; id: string } | undefined {
  const m = /^(telegram|zalo|web):(\S+)$/.exec(value.trim());
  return m ? { channel: m[1] as Channel, id: m[2]! } : undefined;
}
