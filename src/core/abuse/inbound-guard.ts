/**
 * The shape every `Inbound` must have before the core looks at it (L6), and the one place
 * where user text is cleaned of invisible formatting characters (L2).
 *
 * Adapters call `guardInbound` on what they built from a platform update; the core calls it
 * again at its entry (bot-core `handle`), so a channel that forgot (or a forged update with
 * the right secret and the wrong types) can never reach a flow: a wrong shape is dropped,
 * never answered with an internal error.
 */
import * as z from 'zod';
import { CHANNELS, type Inbound } from '../messages.js';
import { cleanUserText } from '../format.js';

const id = z.string().min(1).max(256);
const label = z.string().max(1024);

const base = {
  channel: z.enum(CHANNELS),
  accountId: id,
  chatId: id,
  chatType: z.enum(['private', 'group']),
  updateId: id,
  displayName: label.optional(),
  username: label.optional(),
  languageCode: z.string().max(35).optional(),
};

const finite = z.number().finite();

export const inboundSchema = z.discriminatedUnion('kind', [
  z.looseObject({ ...base, kind: z.literal('text'), text: z.string() }),
  z.looseObject({ ...base, kind: z.literal('command'), command: z.string().min(1).max(64), args: z.string() }),
  // Choice ids are ours (at most 64 bytes on Telegram); anything else is not a choice we offered.
  z.looseObject({ ...base, kind: z.literal('choice'), choice: z.string().max(256) }),
  z.looseObject({
    ...base,
    kind: z.literal('photo'),
    photo: z.looseObject({ fileId: id.optional(), url: z.string().max(4096).optional(), mediaId: id.optional() }),
    caption: z.string().optional(),
  }),
  z.looseObject({ ...base, kind: z.literal('location'), latitude: finite.min(-90).max(90), longitude: finite.min(-180).max(180) }),
  z.looseObject({ ...base, kind: z.literal('contact'), phone: z.string().max(64) }),
  z.looseObject({ ...base, kind: z.literal('unsupported'), what: z.string().max(64) }),
]);

/**
 * A valid Inbound with its user text cleaned (`cleanUserText`), or undefined when the shape is
 * wrong. Text that was only invisible characters becomes empty, which every step treats as empty.
 */
export function guardInbound(candidate: unknown): Inbound | undefined {
  const parsed = inboundSchema.safeParse(candidate);
  if (!parsed.success) return undefined;
  const inbound = parsed.data as Inbound;
  const clean = (s: string | undefined) => (s === undefined ? undefined : cleanUserText(s));
  const out: Inbound = { ...inbound };
  if (inbound.displayName !== undefined) out.displayName = clean(inbound.displayName) || undefined;
  if (inbound.username !== undefined) out.username = clean(inbound.username) || undefined;
  if (out.displayName === undefined) delete out.displayName;
  if (out.username === undefined) delete out.username;
  switch (out.kind) {
    case 'text':
      out.text = cleanUserText(out.text);
      break;
    case 'command':
      out.args = cleanUserText(out.args).trim();
      break;
    case 'photo':
      if (out.caption !== undefined) out.caption = cleanUserText(out.caption);
      break;
    default:
      break;
  }
  return out;
}
