/**
 * Removes stored photos nobody needs: uploads and downloads that no case, case message or
 * unfinished draft refers to, once they are older than the grace period (24 hours).
 */
import type { Logger } from '../logger.js';
import { startPeriodicCheck } from '../jobs/periodic.js';

export function startOrphanSweepJob(deps: { sweep(): Promise<number>; logger: Logger; everyMs?: number }) {
  return startPeriodicCheck(
    'media orphan sweep',
    async () => {
      const removed = await deps.sweep();
      if (removed) deps.logger.info(`media: removed ${removed} photo(s) no report uses`);
    },
    deps.logger,
    deps.everyMs ?? 60 * 60_000,
  );
}
