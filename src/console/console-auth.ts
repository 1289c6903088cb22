/**
 * Sign-in to the console without passwords: /console in the bot mints a one-time link (valid
 * 10 minutes, usable once); opening it creates a console session (a "device") whose cookie is
 * a random token. Only SHA-256 hashes of link tokens and cookies are stored. Every sign-in,
 * sign-out and console action is written to the audit log.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../core/services/db.js';
import type { Clock } from '../core/ports/clock.js';

export const LOGIN_LINK_TTL_MS = 10 * 60_000;
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** lastSeenAt is written at most this often (one write per request would cost a statement each). */
const TOUCH_EVERY_MS = 60_000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const token = () => randomBytes(32).toString('base64url');
/** What a link or cookie token looks like: 32 random bytes, base64url. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSessionInfo {
  id: string;
  personId: string;
  csrfToken: string;
  expiresAt: Date;
}

export function createConsoleAuth(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  const now = () => clock.now();

  const auth = {
    /** Mints a one-time sign-in token for a person; the caller builds the link. */
    async issueLoginToken(personId: string): Promise<string> {
      const value = token();
      await db.consoleLoginToken.create({ data: { tokenHash: sha256(value), personId, createdAt: now(), expiresAt: new Date(now().getTime() + LOGIN_LINK_TTL_MS) } });
      await auth.audit(personId, 'console.link.issued', `person:${personId}`, {});
      return value;
    },

    /** The person a sign-in link is for, if it is still valid (nothing is spent). */
    async peekLoginToken(value: string): Promise<string | undefined> {
      if (!TOKEN_SHAPE.test(value)) return undefined;
      const row = await db.consoleLoginToken.findUnique({ where: { tokenHash: sha256(value) } });
      if (!row || row.usedAt || row.expiresAt <= now()) return undefined;
      return row.personId;
    },

    /**
     * Opens a sign-in link: consumes the token (once, atomically) and creates a session.
     * Undefined when the link is unknown, used or expired, or the person is gone.
     */
    async consumeLoginToken(value: string, userAgent: string | undefined): Promise<{ cookie: string; session: ConsoleSessionInfo } | undefined> {
      if (!TOKEN_SHAPE.test(value)) return undefined;
      const at = now();
      const row = await db.consoleLoginToken.findUnique({ where: { tokenHash: sha256(value) } });
      if (!row || row.usedAt || row.expiresAt <= at) return undefined;
      // Only one opening wins, even when two requests race.
      const { count } = await db.consoleLoginToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: at } });
      if (count !== 1) return undefined;
      const person = await db.person.findUnique({ where: { id: row.personId }, select: { deletedAt: true } });
      if (!person || person.deletedAt) return undefined;
      const cookie = token();
      const created = await db.consoleSession.create({
        data: {
          tokenHash: sha256(cookie),
          personId: row.personId,
          csrfToken: token(),
          userAgent: userAgent?.slice(0, 300) ?? null,
          createdAt: at,
          lastSeenAt: at,
          expiresAt: new Date(at.getTime() + SESSION_TTL_MS),
        },
      });
      await auth.audit(row.personId, 'console.signin', `consoleSession:${created.id}`, {});
      return { cookie, session: { id: created.id, personId: created.personId, csrfToken: created.csrfToken, expiresAt: created.expiresAt } };
    },

    /** The live session a cookie belongs to (not expired, not signed out, person not erased). */
    async sessionFor(cookie: string | undefined): Promise<ConsoleSessionInfo | undefined> {
      if (!cookie || !TOKEN_SHAPE.test(cookie)) return undefined;
      const at = now();
      const row = await db.consoleSession.findUnique({ where: { tokenHash: sha256(cookie) } });
      if (!row || row.revokedAt || row.expiresAt <= at) return undefined;
      const person = await db.person.findUnique({ where: { id: row.personId }, select: { deletedAt: true } });
      if (!person || person.deletedAt) return undefined;
      if (at.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
        await db.consoleSession.update({ where: { id: row.id }, data: { lastSeenAt: at } });
      }
      return { id: row.id, personId: row.personId, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
    },

    /** Whether a form's CSRF field is this session's token (constant time). */
    csrfMatches(session: ConsoleSessionInfo, given: unknown): boolean {
      if (typeof given !== 'string') return false;
      const a = Buffer.from(session.csrfToken);
      const b = Buffer.from(given);
      return a.length === b.length && timingSafeEqual(a, b);
    },

    /** The person's signed-in devices, newest first. */
    devices(personId: string) {
      return db.consoleSession.findMany({
        where: { personId, revokedAt: null, expiresAt: { gt: now() } },
        orderBy: { lastSeenAt: 'desc' },
        select: { id: true, userAgent: true, createdAt: true, lastSeenAt: true, expiresAt: true },
      });
    },

    /** Signs one of the person's devices out; false when it is not theirs or already out. */
    async signOut(personId: string, sessionId: string): Promise<boolean> {
      const { count } = await db.consoleSession.updateMany({ where: { id: sessionId, personId, revokedAt: null }, data: { revokedAt: now() } });
      if (count) await auth.audit(personId, 'console.signout', `consoleSession:${sessionId}`, {});
      return count > 0;
    },

    /** Signs every console device of a person out (erasure, role removal). */
    async signOutEverywhere(personId: string): Promise<number> {
      const { count } = await db.consoleSession.updateMany({ where: { personId, revokedAt: null }, data: { revokedAt: now() } });
      return count;
    },

    async audit(actorId: string | null, action: string, subject: string, detail: Record<string, unknown>): Promise<void> {
      await db.auditLog.create({ data: { actorId, action, subject, detail: JSON.stringify(detail), createdAt: now() } });
    },
  };
  return auth;
}

export type ConsoleAuth = ReturnType<typeof createConsoleAuth>;
