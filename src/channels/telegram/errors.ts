import { GrammyError, HttpError } from 'grammy';
import type { SendFailure } from '../../delivery/send-outcome.js';

/** Telegram's answers: 429 waits retry_after, 403 means blocked or deactivated, "chat not found" is gone. */
export function classifyTelegramError(error: unknown): SendFailure {
  if (error instanceof GrammyError) {
    const reason = `telegram ${error.error_code}: ${error.description}`;
    if (error.error_code === 429) {
      const seconds = error.parameters.retry_after ?? 1;
      return { kind: 'retry', afterMs: seconds * 1000, reason, pauseChannel: true };
    }
    if (error.error_code >= 500) return { kind: 'retry', reason };
    if (error.error_code === 403) return { kind: 'permanent', reason, unreachable: true };
    if (error.error_code === 400 && /chat not found|user not found|PEER_ID_INVALID|user is deactivated/i.test(error.description)) {
      return { kind: 'permanent', reason, unreachable: true };
    }
    return { kind: 'permanent', reason, unreachable: false };
  }
  if (error instanceof HttpError) return { kind: 'retry', reason: `network error talking to Telegram: ${error.message}` };
  return { kind: 'retry', reason: `our code failed: ${error instanceof Error ? error.message : String(error)}` };
}
