/**
 * Typed answers to a list of choices: "2", "Bỏ qua", "bo qua", "BỎ QUA", "⬅️ quay lai!" all pick.
 * The engine keeps the ids (and labels) of the last list offered in the conversation state; this
 * module packs them into the one stored array and matches what a person typed against them.
 */
import type { Choice } from './messages.js';

/**
 * Separates ids from labels in the stored array. Never a choice id (ids are ASCII with ':'),
 * and no NUL, which PostgreSQL text refuses.
 */
const LABELS_MARK = '\u241Elabels';

/** Ids first (typing "2" picks the second), then the labels, so typing a label works after a restart. */
export function packChoices(choices: Choice[]): string[] {
  if (!choices.length) return [];
  return [...choices.map((c) => c.id), LABELS_MARK, ...choices.map((c) => c.label)];
}

/** Reads a stored array; arrays written before labels were kept hold ids only. */
export function unpackChoices(stored: string[]): { ids: string[]; labels: string[] } {
  const mark = stored.indexOf(LABELS_MARK);
  if (mark < 0) return { ids: stored, labels: [] };
  return { ids: stored.slice(0, mark), labels: stored.slice(mark + 1) };
}

/**
 * One form for comparing what people type with labels: no diacritics (đ -> d), lower case,
 * no emoji or punctuation, single spaces. "⬅️ Quay lại" and "quay lai" both give "quay lai".
 */
export function normaliseAnswer(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The id of the one choice whose label the text spells (ignoring accents, case, emoji), if exactly one does. */
export function matchLabel(text: string, ids: string[], labels: string[]): string | undefined {
  const typed = normaliseAnswer(text);
  if (!typed) return undefined;
  const hits = new Set<string>();
  labels.forEach((label, i) => {
    if (ids[i] !== undefined && normaliseAnswer(label) === typed) hits.add(ids[i]!);
  });
  return hits.size === 1 ? [...hits][0] : undefined;
}
