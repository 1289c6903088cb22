/**
 * Named prepared statements on node-postgres pools of the service's own: the PostgreSQL
 * runner of sql-runner.ts. Prisma's columns are TIMESTAMP(3) without a time zone holding UTC:
 * they are read and written as UTC here too, whatever the machine's time zone.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { BatchAborted, type SqlRunner, type Statement } from './sql-runner.js';

const TIMESTAMP_OID = 1114;
const utcTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMP_OID) return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function pgValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
  return value === undefined ? null : value;
}

/** "?" placeholders -> "$1", "$2", ... (the shared statements hold no "?" inside literals). */
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (!out) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

/**
 * The runner on a pool of `max` connections, and its `bookkeeping` runner on a second, smaller
 * pool whose commits do not wait for the WAL to reach the disk (synchronous_commit off): the
 * delivery worker's claims and "sent" marks, the choices offered with a notification, an account's
 * refreshed name. Those
 * commits are as visible and as atomic as any; what a crash of the PostgreSQL server itself (not of
 * this service) can lose is their last fraction of a second (3 × wal_writer_delay, 0.6 s by
 * default), after which those rows are sent again: the same bound as SQLite's WAL with
 * synchronous=NORMAL gives on a power cut. An update's own turn (its "handled" mark, state and
 * replies) stays on the main pool, waiting for the disk before the webhook is answered. Measured
 * (`npm run bench`, 200 updates/s): with every worker write waiting for its own flush, the single
 * worker's claims and marks queued behind the disk (p95 1.3 s); without, p95 under 80 ms.
 * 16 connections on the main pool let turns that arrive together share one flush (group commit).
 *
 * A connection, once opened, stays open (`KEEP_CONNECTIONS`): node-postgres closes idle ones after
 * 10 s by default, and the first second of a burst after a quiet spell (an alert's answers) then
 * opened them all again, each a server process to start and its statements to prepare anew:
 * measured at 200 updates/s after 25 s idle, p95 0.6-0.75 s instead of about 0.1 s.
 */
/** Pool settings: idle connections are kept (0: never closed for being idle); see createPgRunner. */
export const KEEP_CONNECTIONS = { idleTimeoutMillis: 0 } as const;

export function createPgRunner(connectionString: string, schema: string, max = 16): SqlRunner {
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  const pool = new pg.Pool({ connectionString, max, ...KEEP_CONNECTIONS, types: utcTypes as pg.CustomTypesConfig, options: `-c search_path=${quoted}` });
  const relaxedPool = new pg.Pool({
    connectionString,
    max: 3,
    ...KEEP_CONNECTIONS,
    types: utcTypes as pg.CustomTypesConfig,
    options: `-c search_path=${quoted} -c synchronous_commit=off`,
  });
  // A connection that breaks while idle (the server restarted) is dropped by the pool; without a
  // listener its 'error' event would stop the process.
  for (const p of [pool, relaxedPool]) p.on('error', () => undefined);
  const bookkeeping = runnerOn(relaxedPool);
  return { ...runnerOn(pool), bookkeeping, close: async () => void (await Promise.all([pool.end(), relaxedPool.end()])) };
}

function runnerOn(pool: pg.Pool): SqlRunner {
  const names = new Map<string, string>();
  const nameOf = (sql: string) => {
    let name = names.get(sql);
    if (!name) names.set(sql, (name = `q${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`));
    return name;
  };
  const exec = (client: pg.Pool | pg.PoolClient, sql: string, params: unknown[]) =>
    client.query({ name: nameOf(sql), text: toPg(sql), values: params.map(pgValue) });

  return {
    dialect: 'postgresql',
    async get<T>(sql: string, ...params: unknown[]) {
      return (await exec(pool, sql, params)).rows[0] as T | undefined;
    },
    async all<T>(sql: string, ...params: unknown[]) {
      return (await exec(pool, sql, params)).rows as T[];
    },
    async run(sql, ...params) {
      return (await exec(pool, sql, params)).rowCount ?? 0;
    },
    async returning<T>(sql: string, ...params: unknown[]) {
      return (await exec(pool, sql, params)).rows as T[];
    },
    async batch(statements: Statement[]) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const s of statements) {
          const result = await exec(client, s.sql, s.params);
          s.returned?.(result.rows[0] as Record<string, unknown> | undefined);
          if (s.mustChange && !result.rowCount) throw new BatchAborted();
        }
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (error instanceof BatchAborted) return false;
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
