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

/** "14:05" in Vietnam time (for a moment later today). */
export function formatClock(date: Date, locale: string): string {
  return formatter(locale, false).format(date);
}

/** The first `max` characters of a text, cut at a word, with an ellipsis when cut. */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut) + '…';
}
