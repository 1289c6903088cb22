/**
 * Zalo update parsing and mapping to the core `Inbound` model.
 *
 * Zalo's payloads differ between the docs and live traffic (envelope, `photo` vs
 * `photo_url`, seconds vs milliseconds, `display_name` vs `name`), and unknown event
 * names appear in the wild. So parsing is defensive: it never throws, normalises the
 * variants into one `ZaloUpdate` shape, and leaves the decision about what to answer
 * to `zaloToInbound`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseCommand, type Inbound } from '../../core/messages.js';
import { guardInbound } from '../../core/abuse/inbound-guard.js';

/** The event names Zalo documents; any other string may still arrive. */
export type ZaloEventName =
  | 'message.text.received'
  | 'message.image.received'
  | 'message.sticker.received'
  | 'message.unsupported.received'
  | (string & {});

export interface ZaloSender {
  id: string;
  /** `display_name`, or the older `name` field. */
  display_name?: string;
  is_bot?: boolean;
}

export interface ZaloChat {
  id: string;
  /** "PRIVATE" or "GROUP" as Zalo sends it (kept as given, upper-cased). */
  chat_type?: string;
}

/** A normalised Zalo message: every field optional because live payloads vary. */
export interface ZaloMessage {
  message_id?: string;
  /** Epoch milliseconds (seconds are converted). */
  date?: number;
  from?: ZaloSender;
  chat?: ZaloChat;
  text?: string;
  /** The image URL, read from `photo_url` (live traffic) or `photo` (docs). */
  photo_url?: string;
  caption?: string;
  sticker?: string;
}

/** One update, envelope removed. Uses Zalo's wire names so it can be fed back to a fake. */
export interface ZaloUpdate {
  event_name: ZaloEventName;
  message?: ZaloMessage;
}

type Rec = Record<string, unknown>;

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Ids are opaque strings, but accept numbers so a numeric id is not silently dropped. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Zalo documents milliseconds, but some payloads carry seconds: below 1e12 means seconds. */
function dateOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return undefined;
  return n < 1e12 ? Math.round(n * 1000) : n;
}

/** The docs say `photo`, live traffic says `photo_url`; accept a string or `{ url }`. */
function photoOf(raw: Rec): string | undefined {
  for (const candidate of [raw.photo_url, raw.photo]) {
    if (typeof candidate === 'string' && candidate.length > 0) return candidate;
    if (isRecord(candidate)) {
      const url = stringOf(candidate.url);
      if (url) return url;
    }
  }
  return undefined;
}

function senderOf(value: unknown): ZaloSender | undefined {
  if (!isRecord(value)) return undefined;
  const id = idOf(value.id);
  if (!id) return undefined;
  const sender: ZaloSender = { id };
  const name = stringOf(value.display_name) ?? stringOf(value.name);
  if (name) sender.display_name = name;
  if (typeof value.is_bot === 'boolean') sender.is_bot = value.is_bot;
  return sender;
}

function chatOf(value: unknown): ZaloChat | undefined {
  if (!isRecord(value)) return undefined;
  const id = idOf(value.id);
  if (!id) return undefined;
  const chat: ZaloChat = { id };
  const type = stringOf(value.chat_type);
  if (type) chat.chat_type = type.toUpperCase();
  return chat;
}

function messageOf(value: unknown): ZaloMessage | undefined {
  if (!isRecord(value)) return undefined;
  const message: ZaloMessage = {};
  const id = idOf(value.message_id);
  if (id) message.message_id = id;
  const date = dateOf(value.date);
  if (date !== undefined) message.date = date;
  const from = senderOf(value.from);
  if (from) message.from = from;
  const chat = chatOf(value.chat);
  if (chat) message.chat = chat;
  const text = stringOf(value.text);
  if (text !== undefined) message.text = text;
  const photo = photoOf(value);
  if (photo) message.photo_url = photo;
  const caption = stringOf(value.caption);
  if (caption) message.caption = caption;
  const sticker = idOf(value.sticker) ?? (isRecord(value.sticker) ? idOf(value.sticker.id) : undefined);
  if (sticker) message.sticker = sticker;
  return message;
}

/**
 * Parses a webhook body or a getUpdates `result` into a `ZaloUpdate`.
 * Accepts `{ ok, result: { event_name, message } }` and flat `{ event_name, message }`.
 * Returns undefined for anything without a string `event_name`; never throws.
 */
export function parseZaloUpdate(body: unknown): ZaloUpdate | undefined {
  try {
    if (!isRecord(body)) return undefined;
    const raw = typeof body.event_name !== 'string' && isRecord(body.result) ? body.result : body;
    const eventName = raw.event_name;
    if (typeof eventName !== 'string' || eventName.length === 0) return undefined;
    const update: ZaloUpdate = { event_name: eventName };
    const message = messageOf(raw.message);
    if (message) update.message = message;
    return update;
  } catch {
    // A getter or proxy in a hostile payload: treat as garbage rather than crash the loop.
    return undefined;
  }
}

/** Event kinds the core words its answer for under another name: an audio message is a voice message. */
const WHAT_ALIASES: Record<string, string> = { audio: 'voice' };

/** "message.voice.received" -> "voice"; any other shape is reported as given. */
function whatOf(eventName: string): string {
  const match = /^message\.([^.]+)\.received$/.exec(eventName);
  const what = match?.[1] ?? eventName;
  return WHAT_ALIASES[what] ?? what;
}

/**
 * Maps a parsed update to the core `Inbound`. Returns undefined when there is no
 * sender to answer (e.g. `message.unsupported.received` without a message), because
 * the core could do nothing useful with it, and when the result does not have the shape
 * the core expects (checked with zod by `guardInbound`, which also cleans the text of
 * invisible formatting characters).
 */
export function zaloToInbound(update: ZaloUpdate): Inbound | undefined {
  const inbound = buildInbound(update);
  return inbound && guardInbound(inbound);
}

function buildInbound(update: ZaloUpdate): Inbound | undefined {
  const message = update.message;
  const from = message?.from;
  if (!message || !from) return undefined;

  // Replies go to chat.id; in a private chat it equals from.id, so that is the fallback.
  const chatId = message.chat?.id ?? from.id;
  // Without a message_id, fall back to sender+date; without both, never treat it as a repeat.
  const uniquePart =
    message.message_id ??
    // Hashed: update ids are kept after a person erases their data, so they must not carry the sender's id.
    (message.date !== undefined ? createHash('sha256').update(`${from.id}@${message.date}`).digest('hex').slice(0, 32) : randomUUID());
  const base = {
    channel: 'zalo' as const,
    accountId: from.id,
    chatId,
    chatType: message.chat?.chat_type === 'GROUP' ? ('group' as const) : ('private' as const),
    updateId: `${update.event_name}:${uniquePart}`,
    ...(from.display_name ? { displayName: from.display_name } : {}),
  };

  switch (update.event_name) {
    case 'message.text.received': {
      const text = message.text;
      if (text === undefined || text.trim() === '') return { ...base, kind: 'unsupported', what: 'text' };
      if (text.trimStart().startsWith('/')) {
        const command = parseCommand(text);
        if (command) return { ...base, kind: 'command', ...command };
      }
      return { ...base, kind: 'text', text };
    }
    case 'message.image.received': {
      if (!message.photo_url) return { ...base, kind: 'unsupported', what: 'image' };
      return {
        ...base,
        kind: 'photo',
        photo: { url: message.photo_url },
        ...(message.caption ? { caption: message.caption } : {}),
      };
    }
    default:
      // Stickers, files, voice, locations, protected-group senders and unknown events.
      return { ...base, kind: 'unsupported', what: whatOf(update.event_name) };
  }
}

export interface UpdateDeduplicator {
  /** True if `key` was seen within the TTL; otherwise remembers it and returns false. */
  seen(key: string): boolean;
  /** Number of remembered keys (for tests and metrics). */
  readonly size: number;
}

/**
 * Drops repeated deliveries (polling plus webhook retries) keyed on
 * `event_name:message_id`. Entries live in a Map in insertion order, so expired ones
 * are pruned from the front in O(expired); `maxEntries` caps memory under a flood.
 */
export function createUpdateDeduplicator(
  ttlMs = 10 * 60 * 1000,
  now: () => number = Date.now,
  maxEntries = 100_000,
): UpdateDeduplicator {
  const firstSeen = new Map<string, number>();

  function prune(at: number): void {
    for (const [key, time] of firstSeen) {
      if (at - time < ttlMs && firstSeen.size < maxEntries) break;
      firstSeen.delete(key);
    }
  }

  return {
    seen(key: string): boolean {
      const at = now();
      prune(at);
      const time = firstSeen.get(key);
      if (time !== undefined && at - time < ttlMs) return true;
      firstSeen.delete(key); // re-insert at the end so insertion order stays time order
      firstSeen.set(key, at);
      return false;
    },
    get size() {
      return firstSeen.size;
    },
  };
}
