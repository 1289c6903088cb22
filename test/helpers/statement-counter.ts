/**
 * Counts the database statements run through either driver (better-sqlite3 statements,
 * node-postgres queries) while `during(fn)` runs; BEGIN/COMMIT and the like are not counted.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET\s)/i;
/**
 * On PostgreSQL an instance that is not the sender wakes the one that is (persistence/delivery-wakeups.ts):
 * a NOTIFY on a connection of its own, after the update, shared by the updates of a few milliseconds.
 */
const SENDER_WAKE_UP = /^\s*SELECT pg_notify\(/i;

/** Counts statements run through either driver while `counting` is on. */
export function statementCounter() {
  let counting = false;
  const seen: string[] = [];
  const count = (sql: unknown) => {
    if (!counting || typeof sql !== 'string' || TRANSACTION_CONTROL.test(sql) || SENDER_WAKE_UP.test(sql)) return;
    seen.push(sql.replace(/\s+/g, ' ').slice(0, 120));
  };
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown> & { source?: string };
  probe.close();
  const restore: Array<() => void> = [];
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = statementProto[method]!;
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      count(this.source);
      return original.apply(this, args);
    };
    restore.push(() => void (statementProto[method] = original));
  }
  const clientProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const originalQuery = clientProto.query;
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    count(typeof first === 'string' ? first : first?.text);
    return originalQuery.apply(this, args);
  };
  restore.push(() => void (clientProto.query = originalQuery));
  return {
    async during(fn: () => Promise<unknown>): Promise<string[]> {
      seen.length = 0;
      counting = true;
      try {
        await fn();
      } finally {
        counting = false;
      }
      return [...seen];
    },
    restore: () => restore.forEach((r) => r()),
  };
}

