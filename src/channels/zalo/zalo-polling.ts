/**
 * Long-polling loop for the Zalo Bot API.
 *
 * Zalo's getUpdates returns ONE update per call and has no offset (fetching consumes),
 * answers 408 when nothing arrived, and 401 when the token is bad. So the loop polls
 * again at once on "no update", backs off exponentially on other failures, gives up
 * on 401 (retrying cannot fix a bad token), and isolates handler errors so one bad
 * update never stops the bot.
 */
import { ZaloApiError, type ZaloClient, type ZaloLog } from './zalo-client.js';
import type { ZaloUpdate } from './to-inbound.js';

export interface ZaloBackoffOptions {
  /** First delay after a failure. Default 1000 ms. */
  initialMs?: number;
  /** Upper bound for the delay (a 429 `retry_after` may exceed it). Default 30000 ms. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
}

export interface ZaloPollingOptions {
  client: Pick<ZaloClient, 'deleteWebhook' | 'getUpdates'>;
  /** Called once per update, one at a time, in arrival order. Errors are logged, not fatal. */
  onUpdate: (update: ZaloUpdate) => unknown;
  /** Seconds each getUpdates call may wait on the server. Default 30. */
  pollTimeoutSeconds?: number;
  log?: ZaloLog;
  backoff?: ZaloBackoffOptions;
}

export interface ZaloPolling {
  /** Aborts the in-flight poll and resolves once the loop has ended (after a running handler). */
  stop(): Promise<void>;
  /** Resolves when the loop ends for any reason (stop() or an invalid token). */
  readonly done: Promise<void>;
  /** True while the loop runs. */
  readonly running: boolean;
}

/** How often one update's handling is tried before it is given up (the handler logs each failure). */
const HANDLER_ATTEMPTS = 4;
/** First wait before handling a failed update again (doubling: 0.2 s, 0.4 s, 0.8 s). */
const HANDLER_RETRY_MS = 200;

/** Resolves after `ms`, or early when `signal` aborts. Never rejects. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Starts polling at once; the returned handle stops it. */
export function startZaloPolling(options: ZaloPollingOptions): ZaloPolling {
  const { client, onUpdate, log } = options;
  const pollTimeoutSeconds = options.pollTimeoutSeconds ?? 30;
  const initialMs = options.backoff?.initialMs ?? 1000;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const factor = options.backoff?.factor ?? 2;
  const controller = new AbortController();
  const { signal } = controller;
  let running = true;

  const isInvalidToken = (err: unknown): boolean => err instanceof ZaloApiError && err.errorCode === 401;
  const invalidToken = (): void =>
    log?.error?.('Zalo bot token is invalid (401): polling stopped; check the configured Zalo bot token.');

  async function loop(): Promise<void> {
    // Polling and a webhook exclude each other. A failure here is logged but not fatal
    // (the API may refuse when no webhook is set); getUpdates will surface real trouble.
    try {
      await client.deleteWebhook({ signal });
    } catch (err) {
      if (signal.aborted) return;
      if (isInvalidToken(err)) return invalidToken();
      log?.warn?.(`Zalo deleteWebhook failed before polling: ${describe(err)}`);
    }

    let failures = 0;
    while (!signal.aborted) {
      let update: ZaloUpdate | undefined;
      try {
        update = await client.getUpdates(pollTimeoutSeconds, { signal });
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (isInvalidToken(err)) return invalidToken();
        let delay = Math.min(maxMs, initialMs * factor ** failures);
        if (err instanceof ZaloApiError && err.retryAfter !== undefined) delay = Math.max(delay, err.retryAfter * 1000);
        failures += 1;
        log?.warn?.(`Zalo getUpdates failed (${failures} in a row), retrying in ${delay} ms: ${describe(err)}`);
        await sleep(delay, signal);
        continue;
      }
      if (!update) continue; // 408 "no update": poll again at once
      // Fetching consumed the update (Zalo has no offset): it is handled before the next poll, and
      // a failure to commit it (the database away) is retried here rather than lost.
      for (let attempt = 1; ; attempt++) {
        try {
          await onUpdate(update);
          break;
        } catch (err) {
          const last = attempt >= HANDLER_ATTEMPTS || signal.aborted;
          log?.error?.(`Zalo update handler failed for ${update.event_name} (attempt ${attempt}${last ? ', giving up' : ''}): ${describe(err)}`, {
            event: update.event_name,
            error: err,
          });
          if (last) break;
          await sleep(Math.min(maxMs, HANDLER_RETRY_MS * 2 ** (attempt - 1)), signal);
        }
      }
    }
  }

  const done = loop()
    .catch((err: unknown) => log?.error?.(`Zalo polling loop crashed: ${describe(err)}`))
    .finally(() => {
      running = false;
    });

  return {
    done,
    get running() {
      return running;
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}
