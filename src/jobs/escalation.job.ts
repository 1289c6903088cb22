/**
 * Checks for cases nobody acknowledged in time and moves them up a level. The timers live
 * in the database (Case.escalateAt), so a restart loses none: the first check catches up.
 */
import type { Logger } from '../logger.js';
import { startPeriodicCheck } from './periodic.js';

export function startEscalationJob(deps: { escalateOverdue(): Promise<number>; logger: Logger; everyMs?: number }) {
  return startPeriodicCheck(
    'escalation check',
    async () => {
      const moved = await deps.escalateOverdue();
      if (moved) deps.logger.info(`escalated ${moved} overdue case(s)`);
    },
    deps.logger,
    deps.everyMs ?? 30_000,
  );
}
