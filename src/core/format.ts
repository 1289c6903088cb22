/** Dates as residents read them: Vietnam time, day first. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, withDate: boolean): Intl.DateTimeFormat {
  const key = `${locale}:${withDate}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'vi-VN', {
      timeZone: 'Asia/Ho_Chi_Minh',
      hour: '2-digit',
      minute: '2-digit',
      ...(withDate ? { day: '2-digit', month: '2-digit', year: 'numeric' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

/** "14:05 26/11/2026" in Vietnam time. */
export function formatTime(date: Date, locale: string): string {
  return formatter(locale, true).format(date);
}

/** "26/11/2026": the day only, in Vietnam time (where the time of day does not matter). */
export function formatDate(date: Date, locale: string): string {
  let f = formatters.get(`${locale}:day`);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' });
    formatters.set(`${locale}:day`, f);
  }
  return f.format(date);
}

/**
 * A Vietnamese phone number as people write it: "+84912345678" (as stored) becomes
 * "0912 345 678", a landline "+842838221234" becomes "028 3822 1234" (Hà Nội, TP.HCM) or
 * "0252 382 1234" (other provinces). Numbers of other countries are shown as stored.
 */
export function formatPhone(stored: string): string {
  const digits = stored.replace(/[\s.()-]/g, '');
  const national = /^\+84\d{9,10}$/.test(digits) ? `0${digits.slice(3)}` : /^0\d{9,10}$/.test(digits) ? digits : undefined;
  if (!national) return stored;
  if (national.length === 10) return `${national.slice(0, 4)} ${national.slice(4, 7)} ${national.slice(7)}`;
  if (national.length === 11 && /^02[48]/.test(national)) return `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`;
  if (national.length === 11 && national.startsWith('02')) return `${national.slice(0, 4)} ${national.slice(4, 7)} ${national.slice(7)}`;
  return national;
}

/** "14:05" in Vietnam time (for a moment later today). */
export function formatClock(date: Date, locale: string): string {
  return formatter(locale, false).format(date);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The first `max` characters of a text, cut at a word, with an ellipsis when cut. The cut
 * never splits a character: it falls between grapheme clusters (an emoji with its skin tone
 * or a ZWJ family, a letter with its combining marks), so no lone surrogate reaches a platform.
 * `max` counts UTF-16 units, as the platforms' length limits do.
 */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (const { segment, index } of segmenter.segment(text)) {
    if (index + segment.length > max) break;
    end = index + segment.length;
  }
  const cut = text.slice(0, end);
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut) + '…';
}

/**
 * Characters that change how text is shown without being seen: bidi embeddings, overrides and
 * isolates (U+202A-202E, U+2066-2069), direction marks (U+200E, U+200F, U+061C), zero-width
 * space, word joiner, invisible operators and the BOM, soft hyphen, and C0/C1 control characters
 * other than tab and line breaks.
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/gu;
/** A zero-width joiner or non-joiner, except the joiner inside an emoji sequence (👨‍👩‍👧, 🏳️‍🌈). */
const STRAY_JOINER = /\u200C|(?<![\p{Extended_Pictographic}\uFE0F\u{1F3FB}-\u{1F3FF}])\u200D|\u200D(?!\p{Extended_Pictographic})/gu;

/**
 * User text as the service keeps and shows it (L2): invisible formatting characters removed, so
 * "\u202Egnp.exe" cannot pose as "exe.png" to a handler and a text of only zero-width
 * characters is empty. Line breaks and tabs stay; CR LF becomes LF.
 */
export function cleanUserText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(INVISIBLE, '').replace(STRAY_JOINER, '');
}
