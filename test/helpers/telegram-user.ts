/**
 * Drives a Telegram user against the fake Bot API server (polling mode), the way the
 * end-to-end tests need it: push an update, wait until the bot has handled it, and read
 * the replies and keyboards from the calls the fake recorded.
 */
import { vi } from 'vitest';
import type { Update } from 'grammy/types';
import type { FakeTelegram, RecordedCall } from '../fakes/fake-telegram-server.js';
import { matches } from './labels.js';
import { repliesSent } from './replies-sent.js';

export interface Button {
  text: string;
  callback_data: string;
}

/** What the bot sent to one chat in answer to one update. */
export interface TgTurn {
  calls: RecordedCall[];
  /** The texts (or captions) of those calls, joined, for matching. */
  text: string;
}

export interface TelegramWho {
  firstName?: string;
  lastName?: string;
  username?: string;
}

export interface TelegramUserOptions {
  /** How long (ms) to wait for the bot to handle an update or send a message; 15 s unless a file needs longer. */
  wait?: number;
}

/** Messages and photos the bot sent to `chatId` (edits and other calls are not replies). */
export const tgTo = (chatId: number) => (c: RecordedCall) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && String(c.body.chat_id) === String(chatId);
export const tgText = (c: RecordedCall) => String(c.body.text ?? c.body.caption ?? '');
export const keyboardOf = (c: RecordedCall): Button[] => (c.body.reply_markup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard?.flat() ?? [];

/**
 * Polling: the service confirms an update (the next getUpdates offset) once it is handled and its
 * replies are queued; then the delivery worker sends them: this waits for both.
 */
export async function updateHandled(tg: FakeTelegram, updateId: number, timeout: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (tg.pendingUpdates.some((u) => u.update_id === updateId)) throw new Error(`update ${updateId} not handled yet\n${tg.describeRecent()}`);
    },
    { timeout, interval: 5 },
  );
  await repliesSent('telegram', timeout);
}

/** A Telegram user in a private chat (polling): each action resolves once the update is handled. */
export function telegramUser(tg: FakeTelegram, userId: number, who: TelegramWho = {}, options: TelegramUserOptions = {}) {
  const wait = options.wait ?? 15_000;
  const from = { userId, firstName: 'Lan', languageCode: 'vi', ...who };
  async function send(update: Update): Promise<TgTurn> {
    const since = tg.calls.length;
    await tg.pushUpdate(update);
    await updateHandled(tg, update.update_id, wait);
    const calls = tg.calls.slice(since).filter(tgTo(userId));
    return { calls, text: calls.map(tgText).join('\n---\n') };
  }
  /** The newest message in this chat with a button labelled `label`. */
  function find(label: string | RegExp) {
    const mine = tg.calls.filter(tgTo(userId)).reverse();
    for (const call of mine) {
      const buttons = keyboardOf(call);
      const index = buttons.findIndex((b) => matches(b.text, label));
      if (index >= 0) return { call, index, button: buttons[index]! };
    }
    const last = mine.find((c) => keyboardOf(c).length);
    throw new Error(`no button ${label} in chat ${userId}; last buttons: ${last ? keyboardOf(last).map((b) => b.text).join(' | ') : 'none'}`);
  }
  const press = (call: RecordedCall, button: Button) =>
    send(tg.callbackQuery({ ...from, data: button.callback_data, messageId: (call.result as { message_id: number }).message_id }));
  const user = {
    userId,
    command: (text: string) => send(tg.userCommand({ ...from, text })),
    type: (text: string) => send(tg.userMessage({ ...from, text })),
    /** Presses the button labelled `label` on the newest message that has one. */
    press(label: string | RegExp) {
      const { call, button } = find(label);
      return press(call, button);
    },
    /** Presses a button of one particular message (a notification). */
    pressOn(call: RecordedCall, label: string | RegExp) {
      const button = keyboardOf(call).find((b) => matches(b.text, label));
      if (!button) throw new Error(`no button ${label} on "${tgText(call)}"`);
      return press(call, button);
    },
    /** Sends button data the bot never offered (a forged or stale button). */
    forge: (data: string) => send(tg.callbackQuery({ ...from, data })),
    /** Types the number the buttons give to `label`, as on Zalo. */
    typeNumberOf: (label: string | RegExp) => user.type(String(find(label).index + 1)),
    photo: (fileId: string, caption?: string) => send(tg.userPhoto({ ...from, fileId, caption })),
    location: (latitude: number, longitude: number) => send(tg.userLocation({ ...from, latitude, longitude })),
    /** All buttons of the newest message with a button labelled `label`. */
    buttons: (label: string | RegExp) => keyboardOf(find(label).call),
    /** A message to this chat matching `pattern`, among the calls from index `since` on (already sent or still to come). */
    waitFor: (pattern: RegExp, since = 0) => tg.waitForText(userId, pattern, wait, { since }),
    send,
  };
  return user;
}
export type TelegramUser = ReturnType<typeof telegramUser>;
