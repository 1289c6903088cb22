/**
 * Prepared statements on the SQLite connection Prisma itself uses, for the few queries every
 * update runs. A Prisma query costs about 0.8 ms of CPU here (query compiler, client runtime,
 * a fresh prepare); a prepared better-sqlite3 statement about 0.01 ms. Rows come back in the
 * shapes Prisma returns (DATETIME columns as Date, BOOLEAN as boolean), and values are written
 * the way Prisma's SQLite adapter writes them, so both paths read each other's rows.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { BatchAborted, type SqlRunner, type Statement } from './sql-runner.js';

type Row = Record<string, unknown>;
type Converter = (value: unknown) => unknown;

const toDate: Converter = (v) => (v === null || v === undefined ? null : new Date(typeof v === 'bigint' ? Number(v) : (v as string | number)));
const toBoolean: Converter = (v) => (v === null || v === undefined ? null : Boolean(Number(v)));
const toNumber: Converter = (v) => (typeof v === 'bigint' ? Number(v) : v);

function converterFor(declared: string | null): Converter | undefined {
  const type = (declared ?? '').toUpperCase();
  if (type.startsWith('DATETIME')) return toDate;
  if (type.startsWith('BOOLEAN')) return toBoolean;
  if (type.startsWith('INTEGER') || type.startsWith('BIGINT') || type.startsWith('REAL')) return toNumber;
  return undefined;
}

/** A DateTime as @prisma/adapter-better-sqlite3 stores it: "2026-12-01T16:36:20.804+00:00". */
export function sqliteTime(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** Binds a JS value the way Prisma writes it. */
export function sqliteValue(value: unknown): unknown {
  if (value instanceof Date) return sqliteTime(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value === undefined ? null : value;
}

/** A collision-free row id in the same alphabet as Prisma's cuid() (lower case letters and digits). */
export function newId(): string {
  return `c${Date.now().toString(36)}${randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
}

export interface Query<T> {
  get(...params: unknown[]): T | undefined;
  all(...params: unknown[]): T[];
  run(...params: unknown[]): { changes: number };
}

export function createSqliteStatements(conn: Database.Database) {
  const cache = new Map<string, Query<Row>>();

  /** A prepared statement whose rows are converted by declared column type (prepared once, then cached). */
  function query<T = Row>(sql: string): Query<T> {
    let q = cache.get(sql);
    if (!q) {
      const stmt = conn.prepare(sql);
      stmt.safeIntegers(false);
      const converters = stmt.reader ? stmt.columns().map((c) => [c.name, converterFor(c.type)] as const).filter(([, f]) => f) : [];
      const convert = (row: Row | undefined): Row | undefined => {
        if (!row) return row;
        for (const [name, f] of converters) row[name] = f!(row[name]);
        return row;
      };
      const bind = (params: unknown[]) => params.map(sqliteValue);
      q = {
        get: (...params) => convert(stmt.get(...bind(params)) as Row | undefined),
        all: (...params) => (stmt.all(...bind(params)) as Row[]).map((r) => convert(r)!),
        run: (...params) => ({ changes: stmt.run(...bind(params)).changes }),
      };
      cache.set(sql, q);
    }
    return q as Query<T>;
  }

  /**
   * Runs `fn` in one SQLite transaction, synchronously. Prisma's interactive transactions keep
   * BEGIN open across awaits on this same connection, so first wait until none is open: a write
   * made inside one would commit or roll back with it (and Prisma's next BEGIN would fail).
   */
  async function transaction<T>(fn: () => T): Promise<T> {
    while (conn.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    // What conn.transaction(fn).immediate() does, without building four wrapper functions per call.
    begin.run();
    try {
      const result = fn();
      commit.run();
      return result;
    } catch (error) {
      if (conn.inTransaction) rollback.run();
      throw error;
    }
  }
  const begin = conn.prepare('BEGIN IMMEDIATE');
  const commit = conn.prepare('COMMIT');
  const rollback = conn.prepare('ROLLBACK');

  const runner: SqlRunner = {
    dialect: 'sqlite',
    get: async <T>(sql: string, ...params: unknown[]) => query<T>(sql).get(...params),
    all: async <T>(sql: string, ...params: unknown[]) => query<T>(sql).all(...params),
    // A write outside transaction() could land inside an open Prisma transaction (and roll back with it).
    run: (sql, ...params) => transaction(() => query(sql).run(...params).changes),
    returning: <T>(sql: string, ...params: unknown[]) => transaction(() => query<T>(sql).all(...params)),
    async batch(statements: Statement[]) {
      try {
        await transaction(() => {
          for (const s of statements) {
            if (s.returned) {
              s.returned(query(s.sql).get(...s.params) as Record<string, unknown> | undefined);
              continue;
            }
            const { changes } = query(s.sql).run(...s.params);
            if (s.mustChange && changes === 0) throw new BatchAborted();
          }
        });
        return true;
      } catch (error) {
        if (error instanceof BatchAborted) return false;
        throw error;
      }
    },
  };

  return { query, transaction, runner };
}

export type SqliteStatements = ReturnType<typeof createSqliteStatements>;
