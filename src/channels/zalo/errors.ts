import type { SendFailure } from '../../delivery/send-outcome.js';
import { ZaloApiError, ZaloNetworkError } from './zalo-client.js';

/**
 * Zalo's answers: 429 is the only rate signal; 408/5xx are transient; 404 means the
 * chat is gone; 400/401/403 will not work on retry (403 is documented as an internal error).
 */
export function classifyZaloError(error: unknown): SendFailure {
  if (error instanceof ZaloApiError) {
    const reason = `zalo ${error.errorCode}: ${error.description}`;
    if (error.errorCode === 429) return { kind: 'retry', afterMs: (error.retryAfter ?? 5) * 1000, reason, pauseChannel: true };
    if (error.errorCode === 408 || error.errorCode >= 500) return { kind: 'retry', reason };
    if (error.errorCode === 404) return { kind: 'permanent', reason, unreachable: true };
    return { kind: 'permanent', reason, unreachable: false };
  }
  if (error instanceof ZaloNetworkError) return { kind: 'retry', reason: `network error talking to Zalo: ${error.message}` };
  return { kind: 'retry', reason: `our code failed: ${error instanceof Error ? error.message : String(error)}` };
}
