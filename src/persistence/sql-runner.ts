/**
 * The few statements every update runs, written once in SQL both engines understand (`?`
 * placeholders, quoted identifiers, INSERT ... ON CONFLICT, RETURNING) and run through a
 * prepared-statement runner of each engine: sqlite-statements.ts on the connection Prisma uses,
 * pg-statements.ts on pools of the service's own. Everything else goes through Prisma.
 */
export interface Statement {
  sql: string;
  params: unknown[];
  /** When this statement changes no row, the whole batch is rolled back and reports false. */
  mustChange?: boolean;
  /** Given the first row the statement returns (INSERT … RETURNING), inside the transaction: it may still roll back. */
  returned?(row: Record<string, unknown> | undefined): void;
}

export interface SqlRunner {
  readonly dialect: 'sqlite' | 'postgresql';
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  run(sql: string, ...params: unknown[]): Promise<number>;
  /** A write that returns rows (UPDATE … RETURNING), in a transaction of its own. */
  returning<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** Runs the statements in one transaction; false when a `mustChange` statement changed nothing. */
  batch(statements: Statement[]): Promise<boolean>;
  close?(): Promise<void>;
  /**
   * The runner for bookkeeping writes whose commit need not wait for the disk (PostgreSQL:
   * pg-statements.ts says what a server crash can cost); absent, the runner itself (SQLite).
   */
  readonly bookkeeping?: SqlRunner;
}

/** The bookkeeping runner of `sql` (see SqlRunner.bookkeeping). */
export function bookkeepingOf(sql: SqlRunner): SqlRunner {
  return sql.bookkeeping ?? sql;
}

/** Thrown inside a batch to roll it back. */
export class BatchAborted extends Error {}
