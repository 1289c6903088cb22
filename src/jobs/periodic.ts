/**
 * A check that runs now and then every `everyMs`, never twice at once, logging a failure
 * instead of stopping. The jobs keep their state in the database, so the first check after a
 * restart catches up on whatever fell due meanwhile.
 */
import type { Logger } from '../logger.js';

export function startPeriodicCheck(what: string, run: () => Promise<void>, logger: Logger, everyMs: number) {
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      await run();
    } catch (error) {
      logger.error(`${what} failed`, { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  void check();
  return {
    check,
    stop() {
      clearInterval(timer);
    },
  };
}
