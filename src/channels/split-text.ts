/** Splitting long text for platforms with a length cap (Telegram 4096, Zalo 2000). */

/** Index of the last `separator` match in `window` at or after `minIndex` (> 0), if any. */
function lastBreak(window: string, separator: RegExp, minIndex: number): number | undefined {
  let found: number | undefined;
  for (const match of window.matchAll(separator)) {
    if (match.index >= Math.max(1, minIndex)) found = match.index;
  }
  return found;
}

/**
 * Splits text into pieces of at most `limit` UTF-16 units (a safe upper bound for
 * a platform's character limit). Cuts at a paragraph break, else a line break, else a space,
 * preferring cuts in the second half of the window so pieces stay balanced; only a
 * run with no whitespace is hard-cut (never inside a surrogate pair). Whitespace at
 * the cut is dropped and empty pieces are never returned.
 */
export function splitText(text: string, limit: number): string[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError('limit must be an integer >= 2');
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1); // +1: a separator right after the limit is a clean cut
    let cut: number | undefined;
    for (const minIndex of [Math.floor(limit / 2), 1]) {
      cut = lastBreak(window, /\n[ \t]*\n/g, minIndex) ?? lastBreak(window, /\n/g, minIndex) ?? lastBreak(window, /\s/g, minIndex);
      if (cut !== undefined) break;
    }
    let piece: string;
    if (cut !== undefined) {
      piece = rest.slice(0, cut).trimEnd();
      rest = rest.slice(cut).trimStart();
    } else {
      const code = rest.charCodeAt(limit - 1);
      const hard = code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit; // keep surrogate pairs whole
      piece = rest.slice(0, hard);
      rest = rest.slice(hard);
    }
    if (piece.length > 0) pieces.push(piece);
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}
