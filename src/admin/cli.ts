/**
 * `npm run admin -- <command>`: import the area tree, grant and revoke roles, read the
 * audit log, back up the SQLite file (backup.ts). Talks to the same database as the service (DATABASE_URL).
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
import { isAccountId, splitAccountRef } from '../core/account-ids.js';
import { runBackup } from './backup.js';

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
  // A backup reads the live file as it is: no migration, no Prisma client.
  if (command === 'backup') return runBackup(args, { databaseUrl: config.databaseUrl, mediaDir: config.media.dir }, t, out);
  const handlers: Record<string, (db: Db) => Promise<number>> = {
    import: (db) => importFile(db, args[0], t, out),
    areas: (db) => listAreas(db, t, out),
    accounts: (db) => listAccounts(db, args.join(' '), t, out, config.defaultLocale),
    grant: (db) => changeRole(db, 'grant', args, t, out, config.defaultLocale),
    revoke: (db) => changeRole(db, 'revoke', args, t, out, config.defaultLocale),
    audit: (db) => showAudit(db, Number(args[0] ?? 50), t, out, config.defaultLocale),
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

/**
 * The accounts that have written to the bot, newest first, optionally filtered by a part of the
 * name, username or id: how an administrator finds the id to grant a role to (a Telegram user
 * does not know their numeric id; they send /start, then appear here).
 */
async function listAccounts(db: Db, search: string, t: T, out: (line: string) => void, locale: string): Promise<number> {
  const q = search.trim();
  const rows = await db.channelAccount.findMany({
    where: q ? { OR: [{ displayName: { contains: q } }, { username: { contains: q } }, { externalId: { contains: q } }] } : {},
    orderBy: { lastSeenAt: 'desc' },
    take: 50,
    include: { person: { select: { displayName: true } } },
  });
  if (!rows.length) out(t('admin:accountsEmpty'));
  for (const a of rows) {
    out(
      t('admin:accountLine', {
        account: `${a.channel}:${a.externalId}`,
        name: a.displayName ?? a.person.displayName ?? '—',
        username: a.username ? ` (@${a.username})` : '',
        seen: formatTime(a.lastSeenAt, locale),
      }),
    );
  }
  return 0;
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

/**
 * grant|revoke <role> <channel:id> [code] [--create]. The id must have the shape its channel
 * uses; a grant goes only to an account that has written to the bot, unless --create asks to
 * create it in advance (in DEFAULT_LOCALE). Web chat ids are issued by the server: a web grant
 * needs an existing account, and works only once that person linked Telegram or Zalo.
 */
const BAD_ID_KEYS = { telegram: 'admin:badId_telegram', zalo: 'admin:badId_zalo', web: 'admin:badId_web' } as const;
/** The role as the administrator says it ("tổ trưởng"); the command itself takes the English word (leader). */
const ROLE_KEYS: Record<GrantableRole, string> = { leader: 'admin:role_leader', deputy: 'admin:role_deputy', officer: 'admin:role_officer', admin: 'admin:role_admin' };

async function changeRole(db: Db, verb: 'grant' | 'revoke', rawArgs: string[], t: T, out: (line: string) => void, locale: string): Promise<number> {
  const create = rawArgs.includes('--create');
  const args = rawArgs.filter((a) => a !== '--create');
  const [roleArg = '', personArg = '', scope] = args;
  if (!GRANTABLE_ROLES.includes(roleArg as GrantableRole)) {
    out(t('admin:badRole', { value: roleArg }));
    return 1;
  }
  const ref = splitAccountRef(personArg);
  if (!ref) {
    out(t('admin:badPerson', { value: personArg.slice(0, 80) }));
    return 1;
  }
  if (!isAccountId(ref.channel, ref.id)) {
    out(t(BAD_ID_KEYS[ref.channel], { value: personArg.slice(0, 80) }));
    return 1;
  }
  if (create && (verb === 'revoke' || ref.channel === 'web')) {
    out(t(verb === 'revoke' ? 'admin:createOnlyForGrant' : 'admin:webNoCreate', { person: personArg }));
    return 1;
  }
  const roles = createRoleService(db, systemClock);
  const role = roleArg as GrantableRole;
  let personId = await roles.findPerson(ref.channel, ref.id);
  if (!personId) {
    if (ref.channel === 'web') {
      out(t('admin:webUnknown', { person: personArg }));
      return 1;
    }
    if (verb === 'revoke' || !create) {
      out(t(verb === 'revoke' ? 'admin:unknownAccountRevoke' : 'admin:unknownAccount', { person: personArg }));
      return 1;
    }
  }
  if (verb === 'grant') {
    // Check the scope before creating anybody: a mistake changes nothing.
    await roles.grant(null, personId ?? (await checkedScopeThenCreate(db, roles, ref, role, scope, locale)), role, scope);
    out(t('admin:granted', { role: t(ROLE_KEYS[role]), person: personArg, scope: scope ? ` (${scope})` : '' }));
    if (!personId) out(t('admin:createdInAdvance', { person: personArg }));
    if (ref.channel === 'web' && personId && !(await roles.hasMessengerAccount(personId))) out(t('admin:webNeedsMessenger'));
  } else {
    const count = await roles.revoke(null, personId!, role, scope);
    out(t('admin:revoked', { role: t(ROLE_KEYS[role]), person: personArg, count }));
  }
  return 0;
}

/** Creates the account for --create once the role's group or area is known to exist. */
async function checkedScopeThenCreate(
  db: Db,
  roles: ReturnType<typeof createRoleService>,
  ref: { channel: 'telegram' | 'zalo' | 'web'; id: string },
  role: GrantableRole,
  scope: string | undefined,
  locale: string,
): Promise<string> {
  if (role === 'leader' || role === 'deputy') {
    if (!scope || !(await db.group.findUnique({ where: { code: scope } }))) throw new DomainError('admin:groupNeeded', { code: scope ?? '' });
  } else if (role === 'officer') {
    if (!scope || !(await db.area.findUnique({ where: { code: scope } }))) throw new DomainError('admin:areaNeeded', { code: scope ?? '' });
  } else if (scope) {
    throw new DomainError('admin:adminIsGlobal');
  }
  return roles.personFor(ref.channel, ref.id, locale);
}

async function showAudit(db: Db, limit: number, t: T, out: (line: string) => void, locale: string): Promise<number> {
  const rows = await db.auditLog.findMany({ orderBy: { createdAt: 'desc' }, take: Number.isFinite(limit) && limit > 0 ? limit : 50 });
  if (!rows.length) out(t('admin:auditEmpty'));
  for (const r of rows) {
    out(t('admin:auditLine', { time: formatTime(r.createdAt, locale), actor: r.actorId ?? t('admin:system'), action: r.action, subject: r.subject ?? '', detail: r.detail === '{}' ? '' : r.detail }));
  }
  return 0;
}
