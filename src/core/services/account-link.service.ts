/**
 * One person, several channels: a one-time code made on one channel and typed on another
 * joins the two accounts into one person, whose groups, cases and alerts follow.
 * Codes are random (31^8 possibilities), expire after 10 minutes, work once, and an
 * account that keeps guessing wrong is stopped for a while. Because new web chat accounts cost
 * nothing, wrong guesses are also limited over all accounts together (L10): past that, every
 * code entry waits a few minutes (the codes stay valid; the person tries again).
 */
import type { Db } from './db.js';
import type { Clock } from '../ports/clock.js';
import { DomainError } from '../errors.js';
import { normaliseCode, randomCode } from '../codes.js';
import { LINK_GUESSES_GLOBAL, LINK_GUESSES_PER_ACCOUNT } from '../abuse/limits.js';

export const LINK_CODE_TTL_MS = 10 * 60_000;

export function createAccountLinkService(db: Db, clock: Clock) {
  const now = () => clock.now();

  /** Moves everything of `from` onto `to`, then removes `from` (inside a transaction). */
  async function merge(tx: Parameters<Parameters<Db['$transaction']>[0]>[0], from: string, to: string) {
    await tx.channelAccount.updateMany({ where: { personId: from }, data: { personId: to } });
    const theirs = await tx.membership.findMany({ where: { personId: from } });
    const rank = (m: { state: string; role: string }) => (m.state === 'active' ? 10 : m.state === 'pending' ? 5 : 0) + ({ leader: 3, deputy: 2, member: 1 } as Record<string, number>)[m.role]!;
    for (const m of theirs) {
      const mine = await tx.membership.findUnique({ where: { groupId_personId: { groupId: m.groupId, personId: to } } });
      if (!mine) {
        await tx.membership.update({ where: { id: m.id }, data: { personId: to } });
      } else {
        if (rank(m) > rank(mine)) await tx.membership.update({ where: { id: mine.id }, data: { state: m.state, role: m.role, shareContact: m.shareContact || mine.shareContact } });
        await tx.membership.delete({ where: { id: m.id } });
      }
    }
    await tx.case.updateMany({ where: { reporterId: from }, data: { reporterId: to } });
    await tx.caseMessage.updateMany({ where: { authorId: from }, data: { authorId: to } });
    await tx.caseEvent.updateMany({ where: { actorId: from }, data: { actorId: to } });
    await tx.alert.updateMany({ where: { senderId: from }, data: { senderId: to } });
    await tx.roleGrant.updateMany({ where: { personId: from }, data: { personId: to } });
    await tx.roleGrant.updateMany({ where: { grantedById: from }, data: { grantedById: to } });
    await tx.auditLog.updateMany({ where: { actorId: from }, data: { actorId: to } });
    await tx.auditLog.updateMany({ where: { subject: `person:${from}` }, data: { subject: `person:${to}` } });
    await tx.linkCode.deleteMany({ where: { personId: from } });
    const source = await tx.person.findUnique({ where: { id: from } });
    const target = await tx.person.findUnique({ where: { id: to } });
    if (source && target) {
      await tx.person.update({
        where: { id: to },
        data: {
          displayName: target.displayName ?? source.displayName,
          phone: target.phone ?? source.phone,
          onboardedAt: target.onboardedAt ?? source.onboardedAt,
        },
      });
    }
    await tx.person.delete({ where: { id: from } });
  }

  return {
    async create(personId: string): Promise<{ code: string; expiresAt: Date }> {
      await db.linkCode.deleteMany({ where: { personId } });
      for (let i = 0; i < 10; i++) {
        const code = randomCode(8);
        if (await db.linkCode.findUnique({ where: { code } })) continue;
        const expiresAt = new Date(now().getTime() + LINK_CODE_TTL_MS);
        await db.linkCode.create({ data: { code, personId, expiresAt } });
        return { code, expiresAt };
      }
      throw new Error('could not find a free link code');
    },

    /** Joins the account that typed the code to the person who made it. */
    async redeem(accountId: string, typed: string): Promise<{ personId: string }> {
      const account = await db.channelAccount.findUniqueOrThrow({ where: { id: accountId } });
      const since = (windowMs: number) => new Date(now().getTime() - windowMs);
      const failures = await db.auditLog.count({ where: { action: 'link.failed', subject: `account:${accountId}`, createdAt: { gte: since(LINK_GUESSES_PER_ACCOUNT.windowMs) } } });
      if (failures >= LINK_GUESSES_PER_ACCOUNT.max) throw new DomainError('settings:linkTooMany');
      const everyone = await db.auditLog.count({ where: { action: 'link.failed', createdAt: { gte: since(LINK_GUESSES_GLOBAL.windowMs) } } });
      if (everyone >= LINK_GUESSES_GLOBAL.max) throw new DomainError('settings:linkBusy');
      const code = normaliseCode(typed);
      const row = code ? await db.linkCode.findUnique({ where: { code } }) : null;
      if (!row || row.usedAt || row.expiresAt <= now()) {
        await db.auditLog.create({ data: { action: 'link.failed', subject: `account:${accountId}`, createdAt: now() } });
        throw new DomainError('settings:linkInvalid');
      }
      if (row.personId === account.personId) throw new DomainError('settings:linkSame');
      await db.$transaction(async (tx) => {
        // Claim the code first: a second use in parallel finds it used.
        const claimed = await tx.linkCode.updateMany({ where: { code, usedAt: null }, data: { usedAt: now() } });
        if (claimed.count !== 1) throw new DomainError('settings:linkInvalid');
        await merge(tx, account.personId, row.personId);
        await tx.auditLog.create({ data: { actorId: row.personId, action: 'person.linked', subject: `account:${accountId}`, createdAt: now() } });
      });
      return { personId: row.personId };
    },
  };
}

export type AccountLinkService = ReturnType<typeof createAccountLinkService>;
