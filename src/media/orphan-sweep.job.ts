/**
 * Removes stored photos nobody needs: uploads and downloads that no case, case message or
 * unfinished draft refers to, once they are older than the grace period (24 hours).
 */
import type { Logger } from '../logger.js';

export function startOrphanSweepJob(deps: { sweep(): Promise<number>; logger: Logger; everyMs?: number }) {
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const removed = await deps.sweep();
      if (removed) deps.logger.info(`media: removed ${removed} photo(s) no report uses`);
    } catch (error) {
      deps.logger.error('media orphan sweep failed', { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), deps.everyMs ?? 60 * 60_000);
  timer.unref();
  void check();
  return {
    check,
    stop() {
      clearInterval(timer);
    },
  };
}
