/**
 * The one message model every channel speaks. Adapters turn platform updates into
 * `Inbound` and render `Outbound`; the core never sees a platform type.
 */
export const CHANNELS = ['telegram', 'zalo', 'web'] as const;
export type Channel = (typeof CHANNELS)[number];

/** "telegram:123", "zalo:abc", "web:<session>": where a message can be sent. */
export interface ChannelAddress {
  channel: Channel;
  /** The chat to send to (equal to the user id in a private chat). */
  chatId: string;
}

export type ChatType = 'private' | 'group';

interface InboundBase {
  channel: Channel;
  /** The platform's id of the person who wrote (Telegram user id, Zalo from.id, web session). */
  accountId: string;
  chatId: string;
  chatType: ChatType;
  /** Unique per platform update, used to drop repeated deliveries. */
  updateId: string;
  /** Name the platform shows for the sender; never shown to handlers of anonymous cases. */
  displayName?: string;
  username?: string;
  /** Language the platform reports for the sender, if any ("vi", "en"). */
  languageCode?: string;
}

export type InboundPayload =
  | { kind: 'text'; text: string }
  | { kind: 'command'; command: string; args: string }
  | { kind: 'choice'; choice: string }
  | { kind: 'photo'; photo: PhotoRef; caption?: string }
  | { kind: 'location'; latitude: number; longitude: number }
  | { kind: 'contact'; phone: string }
  | { kind: 'unsupported'; what: string };

export type Inbound = InboundBase & InboundPayload;

/**
 * A photo as the platform gives it (Telegram: a file id; Zalo and web: a URL), or a copy
 * the service keeps (`mediaId`), which each channel shows as well as it can.
 */
export interface PhotoRef {
  fileId?: string;
  url?: string;
  mediaId?: string;
}

export interface Choice {
  /** Sent back as `choice` when picked; at most 64 bytes (Telegram callback_data). */
  id: string;
  label: string;
}

export interface Outbound {
  text: string;
  /** Rows of choices; a numbered list on Zalo, buttons elsewhere. */
  choices?: Choice[][];
  /** A photo to show (a URL reachable by the platform, or a Telegram file id). */
  photo?: PhotoRef;
  /**
   * Ask the person to share a location: the label of the "share my location" button, which
   * Telegram shows on its reply keyboard (the other choices then come as text buttons).
   */
  askLocation?: string;
  /** Ask for the person's phone number: the label of Telegram's "share my contact" button. */
  askContact?: string;
  /** "Type a number to choose:", in the person's language; shown where choices are a numbered list. */
  hint?: string;
  /**
   * The choices sit beside a typed answer (Skip, Back under "which house number?"): a typed number
   * is the answer, so they are picked by typing their words. Zalo lists them without numbers.
   */
  byLabel?: boolean;
  /**
   * How the message should stand out where a channel can show it: 'alert' for an alert as residents
   * read it (the web chat gives it a coloured frame). Messengers show the text as it is.
   */
  tone?: 'alert';
}

/**
 * Splits a text command like "/join ABC" or "/start@MyBot payload" into name and args.
 * Returns undefined when the text is not a command.
 */
export function parseCommand(text: string): { command: string; args: string } | undefined {
  const match = /^\/([a-zA-Z0-9_]{1,64})(?:@\S+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  return { command: match[1]!.toLowerCase(), args: (match[2] ?? '').trim() };
}
