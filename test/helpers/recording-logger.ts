/** A logger that keeps error lines, so a test can check nothing failed inside the service. */
import type { Logger } from '../../src/logger.js';

export function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const note = (msg: string, extra?: Record<string, unknown>) =>
    errors.push(`${msg} ${extra ? JSON.stringify(extra, (_k, v: unknown) => (v instanceof Error ? v.stack : v)) : ''}`);
  const logger: Logger & { errors: string[] } = { errors, debug() {}, info() {}, warn() {}, error: note, child: () => logger };
  return logger;
}
