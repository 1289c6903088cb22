/**
 * Checks for cases nobody acknowledged in time and moves them up a level. The timers live
 * in the database (Case.escalateAt), so a restart loses none: the first check catches up.
 */
import type { Logger } from '../logger.js';

export function startEscalationJob(deps: { escalateOverdue(): Promise<number>; logger: Logger; everyMs?: number }) {
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const moved = await deps.escalateOverdue();
      if (moved) deps.logger.info(`escalated ${moved} overdue case(s)`);
    } catch (error) {
      deps.logger.error('escalation check failed', { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), deps.everyMs ?? 30_000);
  timer.unref();
  void check();
  return {
    check,
    stop() {
      clearInterval(timer);
    },
  };
}
