/** Outbound -> what Zalo can show: plain text with choices as a numbered list (Zalo has no buttons). */
import type { Outbound } from '../../core/messages.js';

export type ZaloCall = { method: 'sendMessage'; text: string } | { method: 'sendPhoto'; photo: string; caption?: string };

export function numberedList(out: Outbound): string {
  const choices = out.choices?.flat() ?? [];
  if (choices.length === 0) return out.text;
  // Beside a typed answer (out.byLabel) a number would be read as the answer: the words pick.
  const list = choices.map((c, i) => (out.byLabel ? `• ${c.label}` : `${i + 1}. ${c.label}`)).join('\n');
  return `${out.text}\n\n${out.hint ? out.hint + '\n' : ''}${list}`;
}

/** `publicUrl` turns the service's own media paths into links Zalo can fetch. */
export function renderZalo(out: Outbound, publicUrl?: string): ZaloCall[] {
  const text = numberedList(out);
  const url = out.photo?.mediaId ? `/media/${out.photo.mediaId}` : out.photo?.url;
  const photo = url && /^https?:\/\//.test(url) ? url : url?.startsWith('/') && publicUrl ? publicUrl + url : undefined;
  if (photo) {
    if (text.length <= 2000) return [{ method: 'sendPhoto', photo, caption: text || undefined }];
    return [{ method: 'sendPhoto', photo }, { method: 'sendMessage', text }];
  }
  return text ? [{ method: 'sendMessage', text }] : [];
}
