/**
 * Web chat sessions issued by the server. The browser holds a random 32-byte token in an
 * HttpOnly cookie; the database keeps only its SHA-256. A session speaks as one web
 * ChannelAccount, whose externalId is a public, server-chosen id ("w" + 16 base32
 * characters): that id addresses replies (WebMessage, Delivery.chatId) and is never a secret.
 *
 * Before sessions existed the page chose its own id and kept it in localStorage. Such an
 * account (a web account that has never had a session) can be taken over ONCE by the browser
 * that presents the old id: the account is re-keyed to a new public id, so the old string is
 * never accepted again. A legacy account whose person holds roles is not handed over with them:
 * the web account moves to a new person without roles (roles need a linked messenger account).
 *
 * Session rows are kept (revoked or expired) until their account is deleted: "this account has
 * had a session" is what tells a server-made account from a legacy one.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Db } from '../core/services/db.js';
import type { Clock } from '../core/ports/clock.js';

export const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000;
/** lastSeenAt/expiresAt are written at most this often per session (a poll every 2 s must stay cheap). */
const RENEW_EVERY_MS = 5 * 60 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** What the old page accepted as a session id. */
const LEGACY_ID = /^[A-Za-z0-9_-]{16,64}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** The shape of a server-issued public id: never accepted as a legacy id (it is not a secret). */
const PUBLIC_ID = /^w[a-z2-7]{16}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** "w" + 16 random base32 characters (80 bits): a public id, not a credential. */
export function newPublicId(): string {
  let id = 'w';
  for (let i = 0; i < 16; i++) id += BASE32[randomInt(32)];
  return id;
}

export interface WebSessionInfo {
  sessionId: string;
  accountId: string;
  /** The account's public id: the inbound accountId/chatId of this browser. */
  publicId: string;
  personId: string;
}

export type LegacyOutcome =
  /** The old conversation continues under a new public id. */
  | { migrated: true; rolesLeftBehind: boolean; session: WebSessionInfo; token: string }
  /** Unknown, malformed or already migrated: never accepted. */
  | { migrated: false };

export function createWebSessions(db: Db, options: { defaultLocale: string; clock?: Clock }) {
  const now = () => options.clock?.now() ?? new Date();

  async function issue(accountId: string, legacy = false): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const at = now();
    await db.webSession.create({
      data: { tokenHash: hashToken(token), accountId, legacy, createdAt: at, lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_IDLE_MS) },
    });
    return token;
  }

  /** A web account whose public id nobody holds yet (a clash is retried). */
  async function withFreshId<T>(make: (publicId: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await make(newPublicId());
      } catch (error) {
        if ((error as { code?: string }).code !== 'P2002' || attempt >= 4) throw error;
      }
    }
  }

  const sessions = {
    /** A new person with a new web account, and a session for it; returns the cookie value. */
    async create(): Promise<{ token: string; session: WebSessionInfo }> {
      const account = await withFreshId((publicId) =>
        db.channelAccount.create({
          data: { channel: 'web', externalId: publicId, chatId: publicId, person: { create: { locale: options.defaultLocale } } },
        }),
      );
      const token = await issue(account.id);
      const row = await db.webSession.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } });
      return { token, session: { sessionId: row.id, accountId: account.id, publicId: account.externalId, personId: account.personId } };
    },

    /** Whether an id is a server-issued public id (not a legacy, client-chosen one). */
    isPublicId: (id: string) => PUBLIC_ID.test(id),

    /** The live session a cookie value stands for, or undefined (unknown, expired, revoked, erased). */
    async resolve(token: string | undefined): Promise<WebSessionInfo | undefined> {
      if (!token || !TOKEN.test(token)) return undefined;
      const row = await db.webSession.findUnique({ where: { tokenHash: hashToken(token) }, include: { account: true } });
      const at = now();
      if (!row || row.revokedAt || row.expiresAt <= at || row.account.channel !== 'web') return undefined;
      if (at.getTime() - row.lastSeenAt.getTime() > RENEW_EVERY_MS) {
        await db.webSession.update({ where: { id: row.id }, data: { lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_IDLE_MS) } });
      }
      return { sessionId: row.id, accountId: row.accountId, publicId: row.account.externalId, personId: row.account.personId };
    },

    /**
     * Takes over the web account an old page created with its own id, once. Accepted only for a
     * web account that has never had a server-issued session; the account gets a new public id,
     * its stored replies follow, and the old id stops existing.
     */
    async migrateLegacy(legacyId: unknown): Promise<LegacyOutcome> {
      if (typeof legacyId !== 'string' || !LEGACY_ID.test(legacyId) || PUBLIC_ID.test(legacyId)) return { migrated: false };
      const account = await db.channelAccount.findUnique({
        where: { channel_externalId: { channel: 'web', externalId: legacyId } },
        include: { _count: { select: { webSessions: true } } },
      });
      if (!account || account._count.webSessions > 0) return { migrated: false };
      const personId = account.personId;
      const [grants, handling, others] = await Promise.all([
        db.roleGrant.count({ where: { personId, revokedAt: null } }),
        db.membership.count({ where: { personId, role: { in: ['leader', 'deputy'] } } }),
        db.channelAccount.count({ where: { personId, id: { not: account.id } } }),
      ]);
      const rolesLeftBehind = grants + handling > 0;
      const result = await withFreshId((publicId) =>
        db.$transaction(async (tx) => {
          // The guard against a second, concurrent take-over: the row must still carry the old id.
          const moved = await tx.channelAccount.updateMany({
            where: { id: account.id, externalId: legacyId },
            data: { externalId: publicId, chatId: publicId },
          });
          if (moved.count !== 1) return undefined;
          await tx.webMessage.updateMany({ where: { session: legacyId }, data: { session: publicId } });
          await tx.delivery.updateMany({ where: { accountId: account.id, chatId: legacyId }, data: { chatId: publicId } });
          let owner = personId;
          if (rolesLeftBehind) {
            // The roles stay with the person (and their messenger accounts, if any); this browser
            // continues as a new person who is a plain member of the same groups.
            const old = await tx.person.findUniqueOrThrow({ where: { id: personId } });
            const fresh = await tx.person.create({ data: { locale: old.locale, onboardedAt: old.onboardedAt } });
            owner = fresh.id;
            await tx.channelAccount.update({ where: { id: account.id }, data: { personId: fresh.id } });
            const memberships = await tx.membership.findMany({ where: { personId, state: 'active' } });
            for (const m of memberships) await tx.membership.create({ data: { groupId: m.groupId, personId: fresh.id, role: 'member', state: 'active' } });
            if (others === 0) {
              // A web-only role holder: the roles were bound to a bearer string; an admin grants them again.
              await tx.auditLog.create({ data: { action: 'web.legacyRolesLeftBehind', subject: `person:${personId}`, createdAt: now() } });
            }
          }
          await tx.auditLog.create({ data: { action: 'web.legacyMigrated', subject: `account:${account.id}`, createdAt: now() } });
          const token = randomBytes(32).toString('base64url');
          const at = now();
          const row = await tx.webSession.create({
            data: { tokenHash: hashToken(token), accountId: account.id, legacy: true, createdAt: at, lastSeenAt: at, expiresAt: new Date(at.getTime() + SESSION_IDLE_MS) },
          });
          return { token, session: { sessionId: row.id, accountId: account.id, publicId, personId: owner } };
        }),
      );
      if (!result) return { migrated: false };
      return { migrated: true, rolesLeftBehind, ...result };
    },

    /** Ends one browser's session (its cookie stops working at once). */
    async revoke(token: string): Promise<void> {
      await db.webSession.updateMany({ where: { tokenHash: hashToken(token), revokedAt: null }, data: { revokedAt: now() } });
    },

    /** Ends every web session of a person (admin console, erasure); returns how many were live. */
    async revokeForPerson(personId: string): Promise<number> {
      const { count } = await db.webSession.updateMany({ where: { account: { personId }, revokedAt: null }, data: { revokedAt: now() } });
      return count;
    },

    /** Ends every session of one web account, by its public id. */
    async revokeForAccount(publicId: string): Promise<number> {
      const { count } = await db.webSession.updateMany({ where: { account: { channel: 'web', externalId: publicId }, revokedAt: null }, data: { revokedAt: now() } });
      return count;
    },
  };
  return sessions;
}

export type WebSessions = ReturnType<typeof createWebSessions>;

/**
 * Ends every web session of a person. Erasure (/delete_me) removes the person's accounts and
 * with them their sessions (ON DELETE CASCADE); this is for an admin or console that keeps the person.
 */
export async function revokeWebSessions(db: Db, personId: string, at = new Date()): Promise<number> {
  const { count } = await db.webSession.updateMany({ where: { account: { personId }, revokedAt: null }, data: { revokedAt: at } });
  return count;
}
