/**
 * `npm run admin -- backup <file>`: a consistent copy of the SQLite database taken while the
 * service runs and another process keeps committing; the copy passes PRAGMA integrity_check,
 * holds every transaction committed before the backup began and no half of any later one; an
 * existing file is kept unless --force; restoring is stop, copy the file back, start. On
 * PostgreSQL the command prints the pg_dump and pg_restore commands, and on the PostgreSQL pass
 * those very commands are run: dump while the service runs, restore, start.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/admin/cli.js';
import { startTestApp, tempDir, testDatabaseUrl, TEST_POSTGRES_URL, type TestApp } from '../helpers/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function admin(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; lines: string[]; text: string }> {
  const lines: string[] = [];
  const code = await runAdmin(argv, env, (line) => lines.push(line));
  return { code, lines, text: lines.join('\n') };
}

/** `npm run admin -- ...` as the operator runs it, in a process of its own. */
function adminProcess(env: Record<string, string>, ...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', 'admin', '--', ...argv], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Another process writing to the live file, as a second instance or a busy service would: first
 * ~9 MB of filler (so the copy takes a while), then one transaction after another, each three
 * audit rows and one processed-update row of batch n, printing n once it is committed.
 */
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1], { timeout: 10000 });
db.pragma('journal_mode = WAL');
const pad = 'x'.repeat(400);
const audit = db.prepare('INSERT INTO "AuditLog" (id, action, subject, detail) VALUES (?, ?, ?, ?)');
const seen = db.prepare('INSERT INTO "ProcessedUpdate" (id) VALUES (?)');
db.transaction(() => { for (let i = 0; i < 20000; i++) audit.run('fill-' + i, 'backup.fill', null, pad); }).immediate();
const batch = db.transaction((n) => {
  for (let i = 0; i < 3; i++) audit.run('bt-' + n + '-' + i, 'backup.test', 'batch:' + n, JSON.stringify({ n, i, pad }));
  seen.run('backup-test:' + n);
});
process.stdout.write('ready\\n');
let n = 0;
const tick = () => { n++; batch.immediate(n); process.stdout.write(n + '\\n'); setTimeout(tick, 3); };
tick();
`;

interface Writer {
  /** The last batch the writer reported committed. */
  committed(): number;
  /** Resolves once the writer has committed batch n. */
  reach(n: number): Promise<void>;
  stop(): Promise<void>;
}

async function startWriter(file: string): Promise<Writer> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ['-e', WRITER, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let last = 0;
  let ready = false;
  let stderr = '';
  let buffered = '';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let exited: ((error: Error) => void) | undefined;
  const failed = new Promise<never>((_, reject) => (exited = reject));
  failed.catch(() => undefined);
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') ready = true;
      else last = Number(line);
    }
    for (const w of waiters.filter((x) => ready && last >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.on('exit', (code, signal) => exited!(new Error(`the writer stopped (${code ?? signal}): ${stderr}`)));
  const writer: Writer = {
    committed: () => last,
    reach: (n) => Promise.race([failed, new Promise<void>((resolve) => (ready && last >= n ? resolve() : waiters.push({ n, resolve })))]),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
  return writer;
}

/** What a copy holds: its integrity check, the writer's batches, and the service's own data. */
function look(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    const perBatch = db
      .prepare(`SELECT CAST(substr(subject, 7) AS INTEGER) AS n, count(*) AS rows FROM "AuditLog" WHERE action = 'backup.test' GROUP BY subject ORDER BY n`)
      .all() as { n: number; rows: number }[];
    const seen = (db.prepare(`SELECT id FROM "ProcessedUpdate" WHERE id LIKE 'backup-test:%'`).all() as { id: string }[]).map((r) => Number(r.id.slice('backup-test:'.length))).sort((a, b) => a - b);
    const filler = (db.prepare(`SELECT count(*) AS c FROM "AuditLog" WHERE action = 'backup.fill'`).get() as { c: number }).c;
    const areas = (db.prepare('SELECT count(*) AS c FROM "Area"').get() as { c: number }).c;
    return { integrity, batches: perBatch.map((b) => b.n), rowsPerBatch: new Set(perBatch.map((b) => b.rows)), seen, filler, areas };
  } finally {
    db.close();
  }
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe.skipIf(TEST_POSTGRES_URL)('backup of a live SQLite database', () => {
  it('copies a consistent database while the service runs and another process writes; keeps an existing file unless --force; restores by stop, copy back, start', async () => {
    const dir = tempDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { DATABASE_URL: testDatabaseUrl(dir) };
    const live = path.join(dir, 'bot.db');
    let service: TestApp = await startTestApp({ dir });
    cleanups.push(() => service.stop());
    const writer = await startWriter(live);
    cleanups.push(() => writer.stop());
    await writer.reach(20);

    // The backup, as the operator runs it, while both keep going.
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    const copy = path.join(backups, 'bot-backup.db');
    const committedBefore = writer.committed();
    const run = await adminProcess(env, 'backup', copy);
    const committedAfter = writer.committed();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^Đã sao lưu cơ sở dữ liệu vào ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+\\.\\d MB, \\d+\\.\\d giây\\)\\. Dịch vụ vẫn chạy bình thường`));
    expect(run.stdout).toContain(`hãy sao chép cả thư mục ${path.join(dir, 'media')}.`);
    expect(committedAfter).toBeGreaterThan(committedBefore); // the writer was not held up
    expect(readdirNames(backups)).toEqual(['bot-backup.db']); // no partial file left beside it

    const copied = look(copy);
    expect(copied.integrity).toBe('ok');
    // Every transaction committed before the backup began, then a run of whole later ones: never a part of one.
    const last = copied.batches.at(-1)!;
    expect(last).toBeGreaterThanOrEqual(committedBefore);
    expect(copied.batches).toEqual(upTo(last));
    expect(copied.seen).toEqual(upTo(last));
    expect(copied.rowsPerBatch).toEqual(new Set([3]));
    expect(copied.filler).toBe(20_000);
    expect(copied.areas).toBe(await service.app.db.area.count());
    expect(copied.areas).toBeGreaterThan(0);

    // An existing backup is kept unless --force says otherwise.
    const before = sha256(copy);
    const again = await admin(env, 'backup', copy);
    expect(again).toEqual({ code: 1, lines: [`Đã có tệp ${copy}: không ghi đè. Chọn tên khác, hoặc thêm --force để thay tệp đó.`], text: expect.any(String) });
    expect(sha256(copy)).toBe(before);
    await writer.reach(writer.committed() + 5);
    const forced = await admin(env, 'backup', copy, '--force');
    expect(forced.code).toBe(0);
    expect(sha256(copy)).not.toBe(before);
    const replaced = look(copy);
    expect(replaced.integrity).toBe('ok');
    expect(replaced.batches.length).toBeGreaterThan(last);
    expect(replaced.batches).toEqual(upTo(replaced.batches.length));
    const inBackup = replaced.batches.length;

    // The service and the writer go on after the backup; then the database is lost.
    await writer.reach(inBackup + 10);
    await writer.stop();
    await service.stop();
    expect(look(live).batches.length).toBeGreaterThan(inBackup);

    // Restore: with the service stopped, the copy goes back in place of the database (its -wal and
    // -shm files, if a crash left them, belong to the lost file and go too), then start.
    for (const suffix of ['-wal', '-shm']) rmSync(live + suffix, { force: true });
    copyFileSync(copy, live);
    service = await startTestApp({ dir });
    expect(await service.app.db.auditLog.count({ where: { action: 'backup.test' } })).toBe(inBackup * 3);
    expect(await service.app.db.processedUpdate.count({ where: { id: { startsWith: 'backup-test:' } } })).toBe(inBackup);
    expect(await service.app.db.area.count()).toBe(copied.areas);
    const health = await fetch(`${service.baseUrl}/healthz`);
    expect(health.status).toBe(200);
  }, 120_000);

  it('explains what it needs: a file name, an existing database, a folder that exists, another file than the database', async () => {
    const dir = tempDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { DATABASE_URL: `file:${path.join(dir, 'bot.db')}` };
    expect(await admin(env, 'backup')).toMatchObject({ code: 1, lines: ['Cách dùng: npm run admin -- backup <tệp> [--force]\nVí dụ: npm run admin -- backup data/backup-2026-12-01.db'] });
    expect(await admin(env, 'backup', path.join(dir, 'copy.db'))).toMatchObject({ code: 1, text: `Không có cơ sở dữ liệu tại ${path.join(dir, 'bot.db')}: kiểm tra DATABASE_URL.` });
    expect(existsSync(path.join(dir, 'bot.db'))).toBe(false); // looking did not create one

    const t = await startTestApp({ dir });
    cleanups.push(() => t.stop());
    expect(await admin(env, 'backup', path.join(dir, 'nowhere', 'copy.db'))).toMatchObject({ code: 1, text: `Không có thư mục ${path.join(dir, 'nowhere')}: tạo thư mục trước, hoặc chọn chỗ khác.` });
    expect(await admin(env, 'backup', path.join(dir, 'bot.db'), '--force')).toMatchObject({ code: 1, text: expect.stringMatching(/là chính cơ sở dữ liệu đang chạy/) });
    writeFileSync(path.join(dir, 'taken.db'), 'not a backup');
    expect(await admin({ ...env, DEFAULT_LOCALE: 'en' }, 'backup', path.join(dir, 'taken.db'))).toMatchObject({
      code: 1,
      text: `${path.join(dir, 'taken.db')} already exists: not overwritten. Choose another name, or add --force to replace it.`,
    });
    expect(readFileSync(path.join(dir, 'taken.db'), 'utf8')).toBe('not a backup');
    expect(await admin(env, 'help')).toMatchObject({ code: 0, text: expect.stringContaining('backup <tệp> [--force]') });
   }, 60_000);
});

describe('backup on PostgreSQL', () => {
  it('prints the exact pg_dump and pg_restore commands for the service schema, without the password', async () => {
    const result = await admin({ DATABASE_URL: 'postgresql://bot:s3cret@db.internal:5432/bot?schema=community&sslmode=require&connection_limit=5' }, 'backup', 'bot.dump');
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'DATABASE_URL trỏ tới PostgreSQL: lệnh này chỉ sao lưu SQLite. Với PostgreSQL, dùng pg_dump (bản sao nhất quán trong lúc dịch vụ vẫn chạy):',
      "  pg_dump -Fc --schema=community --file=bot.dump 'postgresql://bot@db.internal:5432/bot?sslmode=require'",
      'Khôi phục (dừng dịch vụ trước, rồi khởi động lại sau khi xong):',
      "  pg_restore --clean --if-exists --no-owner --dbname='postgresql://bot@db.internal:5432/bot?sslmode=require' bot.dump",
      'Mật khẩu không được in ra: pg_dump và pg_restore sẽ hỏi, hoặc đặt biến PGPASSWORD hay tệp ~/.pgpass.',
    ]);
    expect(result.text).not.toContain('s3cret');
    // Without ?schema the service uses public.
    const plain = await admin({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/bot', DEFAULT_LOCALE: 'en' }, 'backup', 'my backup.dump');
    expect(plain.lines[1]).toBe("  pg_dump -Fc --schema=public --file='my backup.dump' postgresql://postgres@127.0.0.1:5432/bot");
    expect(plain.lines).toHaveLength(4);
  });

  it.skipIf(!TEST_POSTGRES_URL)('the printed commands back up a running service and restore it', async () => {
    const dir = tempDir();
    const env = { DATABASE_URL: testDatabaseUrl(dir) };
    let service = await startTestApp({ dir });
    cleanups.push(async () => {
      await service.dispose();
    });
    const areas = await service.app.db.area.count();
    await service.app.db.auditLog.createMany({ data: upTo(50).map((n) => ({ action: 'backup.test', subject: `batch:${n}` })) });
    const dump = path.join(dir, 'bot.dump');
    const advice = await admin(env, 'backup', dump);
    const [dumpCommand, restoreCommand] = [advice.lines[1]!.trim(), advice.lines[3]!.trim()];
    expect(dumpCommand).toMatch(/^pg_dump -Fc --schema=t_\w+ --file=/);
    await shell(dumpCommand);
    // Later rows, then the loss; restore with the service stopped, then start.
    await service.app.db.auditLog.createMany({ data: upTo(5).map((n) => ({ action: 'backup.later', subject: `batch:${n}` })) });
    await service.stop();
    await shell(restoreCommand);
    service = await startTestApp({ dir });
    expect(await service.app.db.auditLog.count({ where: { action: 'backup.test' } })).toBe(50);
    expect(await service.app.db.auditLog.count({ where: { action: 'backup.later' } })).toBe(0);
    expect(await service.app.db.area.count()).toBe(areas);
    expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);
  }, 60_000);
});

function shell(command: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', command], (error, _stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr || error.message}`)) : resolve())),
  );
}

function readdirNames(folder: string): string[] {
  return readdirSync(folder).sort();
}
