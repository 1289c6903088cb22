/**
 * Every few seconds: sends due re-pings and refreshes senders' live counts. On Telegram the
 * one status message is edited in place; channels without edits get a new status message
 * when the fan-out finishes (and on demand through the Refresh button).
 */
import type { Logger } from '../logger.js';
import type { Services } from '../core/services/services.js';
import type { Translator } from '../core/ports/translator.js';
import type { Outbound } from '../core/messages.js';

/** How often the job runs unless told otherwise: the sender's live counts are at most this old. */
export const ALERT_FOLLOW_UP_MS = 3000;

export interface StatusEditor {
  edit?(chatId: string, messageId: string, out: Outbound): Promise<void>;
  /** Whether a failed edit may succeed later ('retry': 429, network, the platform's 5xx) or never ('permanent'). */
  classifyError?(error: unknown): { kind: 'retry' | 'permanent' };
}

export function startAlertFollowUpJob(deps: {
  services: Services;
  translator: Translator;
  editors: Map<string, StatusEditor>;
  logger: Logger;
  everyMs?: number;
}) {
  const { services, translator, logger } = deps;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await services.alerts.runDueRepings();
      for (const change of await services.alerts.changedStatuses()) {
        const { statusDelivery: d, locale } = change;
        const out = change.text((key, params) => translator.t(locale, key, params));
        const editor = deps.editors.get(d.channel);
        if (editor?.edit && d.platformMessageId) {
          await editor.edit(d.chatId, d.platformMessageId.split(',').at(-1)!, out).catch(async (error) => {
            // A passing failure must not leave stale counts up (nothing else may change after the
            // last answer): the change counts as not shown and the next round edits again.
            const again = editor.classifyError?.(error).kind !== 'permanent';
            logger.warn('status message edit failed', { error, again });
            if (again) await services.alerts.statusNotShown(change);
          });
        } else if (change.counts.queued === 0 && (change.previous?.queued ?? 1) > 0) {
          await services.alerts.sendStatusToSender(change.alert.id);
        }
      }
    } catch (error) {
      logger.error('alert follow-up failed', { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), deps.everyMs ?? ALERT_FOLLOW_UP_MS);
  timer.unref();
  return {
    tick,
    stop() {
      clearInterval(timer);
    },
  };
}
