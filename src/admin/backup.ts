/**
 * `npm run admin -- backup <file> [--force]`: a consistent copy of the SQLite database while
 * the service keeps running. VACUUM INTO reads the whole database inside one read transaction, so
 * the copy is the database as it was at one instant (every transaction committed before it, none
 * after), and in WAL mode that read blocks no writer; unlike the page-by-page backup API it never
 * starts over when another process writes meanwhile. The copy is written beside the target under a
 * temporary name, synced to disk, then moved into place, so a crash never leaves half a backup
 * under the real name. On PostgreSQL the answer is pg_dump: the command prints the exact one.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sqlitePath } from '../persistence/database.js';

type T = (key: string, params?: Record<string, unknown>) => string;

export interface BackupOptions {
  databaseUrl: string;
  mediaDir: string;
}

export function runBackup(rawArgs: string[], options: BackupOptions, t: T, out: (line: string) => void): number {
  const force = rawArgs.includes('--force');
  const [target, ...rest] = rawArgs.filter((a) => a !== '--force');
  if (!target || rest.length) {
    out(t('admin:backupUsage'));
    return 1;
  }
  if (!options.databaseUrl.startsWith('file:')) {
    for (const line of postgresAdvice(options.databaseUrl, target, t)) out(line);
    return 1;
  }
  const source = sqlitePath(options.databaseUrl);
  const file = path.resolve(target);
  if (!existsSync(source)) {
    out(t('admin:backupNoDatabase', { file: source }));
    return 1;
  }
  if (file === source || file === `${source}-wal` || file === `${source}-shm`) {
    out(t('admin:backupSameFile', { file }));
    return 1;
  }
  if (!existsSync(path.dirname(file))) {
    out(t('admin:backupNoFolder', { folder: path.dirname(file) }));
    return 1;
  }
  if (existsSync(file) && !force) {
    out(t('admin:backupExists', { file }));
    return 1;
  }

  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  const started = Date.now();
  // No migration and no schema change: only a read transaction on the live file. The busy
  // timeout covers a checkpoint or a recovery that holds the file for a moment.
  const conn = new Database(source, { fileMustExist: true, timeout: 10_000 });
  try {
    conn.prepare('VACUUM INTO ?').run(partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    conn.close();
  }
  syncFile(partial);
  try {
    if (force) renameSync(partial, file);
    else placeWithoutOverwriting(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      out(t('admin:backupExists', { file }));
      return 1;
    }
    throw error;
  }
  syncFolder(path.dirname(file));
  out(t('admin:backupDone', { file, size: megabytes(statSync(file).size), seconds: ((Date.now() - started) / 1000).toFixed(1) }));
  out(t('admin:backupMedia', { folder: path.resolve(options.mediaDir) }));
  return 0;
}

/** link() fails when the name exists (someone made it meanwhile); rename() would replace it. */
function placeWithoutOverwriting(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A file system without hard links (some USB or network drives): check, then move.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
    if (existsSync(to)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
    renameSync(from, to);
    return;
  }
  rmSync(from, { force: true });
}

function syncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the new name itself durable; not every platform can sync a folder, which is fine. */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows and some file systems refuse; the file's contents are already on disk.
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Query parameters Prisma or node-postgres understand that libpq (pg_dump) would refuse. */
const NOT_FOR_LIBPQ = ['schema', 'connection_limit', 'pool_timeout', 'pgbouncer', 'statement_cache_size', 'socket_timeout', 'sslaccept'];

/**
 * The pg_dump (and pg_restore) commands for this DATABASE_URL: the service's schema only, in
 * pg_dump's custom format. The password is left out of what is printed; pg_dump asks for it, or
 * reads PGPASSWORD or ~/.pgpass.
 */
export function postgresAdvice(databaseUrl: string, target: string, t: T): string[] {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  for (const name of NOT_FOR_LIBPQ) url.searchParams.delete(name);
  const hadPassword = url.password !== '';
  url.password = '';
  const connection = url.toString();
  const dump = ['pg_dump', '-Fc', `--schema=${shellQuote(schema)}`, `--file=${shellQuote(target)}`, shellQuote(connection)].join(' ');
  const restore = ['pg_restore', '--clean', '--if-exists', '--no-owner', `--dbname=${shellQuote(connection)}`, shellQuote(target)].join(' ');
  return [
    t('admin:backupPostgres'),
    `  ${dump}`,
    t('admin:backupPostgresRestore'),
    `  ${restore}`,
    ...(hadPassword ? [t('admin:backupPostgresPassword')] : []),
  ];
}

/** Single quotes unless the word is plainly safe for a POSIX shell. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-./:@=%+,]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
