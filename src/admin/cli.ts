/**
 * `npm run admin -- <command>`: import the area tree, grant and revoke roles, read the
 * audit log. Talks to the same database as the service (DATABASE_URL).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../config.js';
import { openDatabase } from '../persistence/database.js';
import { importAreas, ImportError, referenceProblems, shapeProblems } from '../persistence/area-import.js';
import { csvToAreaDocument } from '../persistence/area-csv.js';
import { createTranslator } from '../i18n.js';
import { createRoleService, GRANTABLE_ROLES, type GrantableRole } from '../core/services/role.service.js';
import { DomainError } from '../core/errors.js';
import { systemClock } from '../core/ports/clock.js';
import { formatTime } from '../core/format.js';
import type { Db } from '../core/services/db.js';
import type { Channel } from '../core/messages.js';

type T = (key: string, params?: Record<string, unknown>) => string;

export async function runAdmin(argv: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<number> {
  const config = parseConfig(env);
  const translator = createTranslator(config.defaultLocale);
  const t: T = (key, params) => translator.t(config.defaultLocale, key, params);
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help') {
    out(t('admin:usage'));
    return command ? 0 : 1;
  }
  const handlers: Record<string, (db: Db) => Promise<number>> = {
    import: (db) => importFile(db, args[0], t, out),
    areas: (db) => listAreas(db, t, out),
    grant: (db) => changeRole(db, 'grant', args, t, out),
    revoke: (db) => changeRole(db, 'revoke', args, t, out),
    audit: (db) => showAudit(db, Number(args[0] ?? 50), t, out),
  };
  const handler = handlers[command];
  if (!handler) {
    out(t('admin:unknownCommand', { command }));
    out(t('admin:usage'));
    return 1;
  }
  const { db, close } = await openDatabase(config.databaseUrl);
  try {
    return await handler(db);
  } catch (error) {
    if (error instanceof DomainError) {
      out(t(error.code, error.params));
      return 1;
    }
    throw error;
  } finally {
    await close();
  }
}

async function importFile(db: Db, file: string | undefined, t: T, out: (line: string) => void): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file ?? '', 'utf8');
  } catch {
    out(t('admin:fileMissing', { file: file ?? '' }));
    return 1;
  }
  let document: unknown;
  let lineOf: (path: (string | number)[]) => number | undefined = () => undefined;
  if (file!.toLowerCase().endsWith('.csv')) {
    const parsed = csvToAreaDocument(text);
    if (parsed.problems.length) {
      // Report every problem of the file at once, in line order.
      const all = [
        ...parsed.problems.map((p) => ({ line: p.line, field: p.field, message: t(p.key) })),
        ...[...shapeProblems(parsed.document), ...(await referenceProblems(db, parsed.document))].map((p) => ({
          line: parsed.lineOf(p.path) ?? 0,
          field: p.field,
          message: t(p.key, p.params),
        })),
      ].sort((a, b) => a.line - b.line);
      for (const p of all) out(t('admin:importProblem', p));
      out(t('admin:importFailed', { count: all.length }));
      return 1;
    }
    document = parsed.document;
    lineOf = parsed.lineOf;
  } else {
    try {
      document = JSON.parse(text);
    } catch (error) {
      out(t('admin:badJson', { error: (error as Error).message }));
      return 1;
    }
  }
  try {
    const counts = await importAreas(db, document);
    out(t('admin:imported', counts));
    return 0;
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    // In line order for a CSV file (its areas and groups may be mixed); in entry order otherwise.
    const located = error.problems.map((p) => ({ p, line: lineOf(p.path) })).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const { p, line } of located) {
      const message = t(p.key, p.params);
      out(line ? t('admin:importProblem', { line, field: p.field, message }) : t('admin:importProblemNoLine', { path: p.path.join('.'), field: p.field, message }));
    }
    out(t('admin:importFailed', { count: error.problems.length }));
    return 1;
  }
}

async function listAreas(db: Db, t: T, out: (line: string) => void): Promise<number> {
  const areas = await db.area.findMany({ orderBy: { name: 'asc' } });
  const groups = await db.group.findMany({ orderBy: { name: 'asc' } });
  const walk = (parentId: string | null, depth: number) => {
    for (const a of areas.filter((x) => x.parentId === parentId)) {
      out(t('admin:areaLine', { indent: '  '.repeat(depth), name: a.name, code: a.code }));
      for (const g of groups.filter((x) => x.areaId === a.id)) {
        out(t('admin:groupLine', { indent: '  '.repeat(depth + 1), name: g.name, code: g.code, invite: g.inviteCode, policy: t(g.joinPolicy === 'approval' ? 'admin:policy_approval' : 'admin:policy_open') }));
      }
      walk(a.id, depth + 1);
    }
  };
  walk(null, 0);
  return 0;
}

async function changeRole(db: Db, verb: 'grant' | 'revoke', args: string[], t: T, out: (line: string) => void): Promise<number> {
  const [roleArg = '', personArg = '', scope] = args;
  if (!GRANTABLE_ROLES.includes(roleArg as GrantableRole)) {
    out(t('admin:badRole', { value: roleArg }));
    return 1;
  }
  const m = /^(telegram|zalo|web):(\S+)$/.exec(personArg);
  if (!m) {
    out(t('admin:badPerson', { value: personArg }));
    return 1;
  }
  const roles = createRoleService(db, systemClock);
  const personId = await roles.personFor(m[1] as Channel, m[2]!);
  const role = roleArg as GrantableRole;
  if (verb === 'grant') {
    await roles.grant(null, personId, role, scope);
    out(t('admin:granted', { role, person: personArg, scope: scope ? ` (${scope})` : '' }));
  } else {
    const count = await roles.revoke(null, personId, role, scope);
    out(t('admin:revoked', { role, person: personArg, count }));
  }
  return 0;
}

async function showAudit(db: Db, limit: number, t: T, out: (line: string) => void): Promise<number> {
  const rows = await db.auditLog.findMany({ orderBy: { createdAt: 'desc' }, take: Number.isFinite(limit) && limit > 0 ? limit : 50 });
  if (!rows.length) out(t('admin:auditEmpty'));
  for (const r of rows) {
    out(t('admin:auditLine', { time: formatTime(r.createdAt, 'en'), actor: r.actorId ?? t('admin:system'), action: r.action, subject: r.subject ?? '', detail: r.detail === '{}' ? '' : r.detail }));
  }
  return 0;
}
