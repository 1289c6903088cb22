/**
 * Idempotency keys of report and alert drafts: made when the draft starts, kept in the flow data
 * (saved with the conversation), carried by the confirm button ("report:send:<key>") and stored
 * on the Case / Alert under a unique constraint, so one draft is filed or sent at most once.
 */
import { randomBytes } from 'node:crypto';

/** 16 random base64url characters (96 bits). */
export function newDraftKey(): string {
  return randomBytes(12).toString('base64url');
}

/** The draft's key, made now when an older draft (saved before keys existed) has none. */
export function draftKeyOf(data: Record<string, unknown>): string {
  if (typeof data.draftKey !== 'string' || !data.draftKey) data.draftKey = newDraftKey();
  return data.draftKey as string;
}
