/**
 * Structured JSON logs, one object per line (pino): what a ward's IT person can feed to any log
 * store. `child({ update: id })` binds an id that follows one update through its handling and the
 * deliveries it queued. Secrets are never passed to it.
 */
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
  /** A logger whose every line also carries these fields. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Logs at `level` and above as JSON lines to stdout, or to `write` (one call per line, tests). */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  const destination: pino.DestinationStream | undefined = write ? { write: (line: string) => write(line.replace(/\n$/, '')) } : undefined;
  const base = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, extra) => (extra ? p.debug(extra, msg) : p.debug(msg)),
    info: (msg, extra) => (extra ? p.info(extra, msg) : p.info(msg)),
    warn: (msg, extra) => (extra ? p.warn(extra, msg) : p.warn(msg)),
    error: (msg, extra) => (extra ? p.error(extra, msg) : p.error(msg)),
    child: (bindings) => wrap(p.child(bindings)),
  };
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
