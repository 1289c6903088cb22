/**
 * Granting and revoking roles: leader/deputy of a group (a membership role), officer of an
 * area (covers everything below it), admin (everywhere, or under an area). Every change is
 * written to the audit log with who and when.
 */
import type { Db } from './db.js';
import type { Clock } from '../ports/clock.js';
import type { Channel } from '../messages.js';
import { DomainError } from '../errors.js';

export type GrantableRole = 'leader' | 'deputy' | 'officer' | 'admin';
export const GRANTABLE_ROLES: GrantableRole[] = ['leader', 'deputy', 'officer', 'admin'];

export function createRoleService(db: Db, clock: Clock) {
  const now = () => clock.now();
  const audit = (actorId: string | null, action: string, subject: string, detail: Record<string, unknown>) =>
    db.auditLog.create({ data: { actorId, action, subject, detail: JSON.stringify(detail), createdAt: now() } });

  return {
    /** The person behind a channel account that has written to the bot (or was created on purpose), if any. */
    async findPerson(channel: Channel, externalId: string): Promise<string | undefined> {
      const existing = await db.channelAccount.findUnique({ where: { channel_externalId: { channel, externalId } } });
      return existing?.personId;
    },

    /**
     * The person behind a channel account; created (with the account, in `locale`) when they
     * have not written yet, so roles can be given before someone's first message. Callers
     * decide whether that is wanted (the admin CLI only with --create; ADMIN_IDS always).
     */
    async personFor(channel: Channel, externalId: string, locale?: string): Promise<string> {
      const existing = await db.channelAccount.findUnique({ where: { channel_externalId: { channel, externalId } } });
      if (existing) return existing.personId;
      const person = await db.person.create({
        data: { ...(locale ? { locale } : {}), accounts: { create: { channel, externalId, chatId: externalId } } },
      });
      return person.id;
    },

    /** Whether the person has a Telegram or Zalo account (web chat accounts alone carry no roles). */
    async hasMessengerAccount(personId: string): Promise<boolean> {
      return (await db.channelAccount.count({ where: { personId, channel: { in: ['telegram', 'zalo'] } } })) > 0;
    },

    async grant(actorId: string | null, personId: string, role: GrantableRole, scopeCode?: string): Promise<void> {
      if (role === 'leader' || role === 'deputy') {
        const group = scopeCode ? await db.group.findUnique({ where: { code: scopeCode } }) : null;
        if (!group) throw new DomainError('admin:groupNeeded', { code: scopeCode ?? '' });
        await db.membership.upsert({
          where: { groupId_personId: { groupId: group.id, personId } },
          create: { groupId: group.id, personId, role, state: 'active' },
          update: { role, state: 'active' },
        });
        await audit(actorId, `role.${role}.granted`, `person:${personId}`, { group: group.code });
        return;
      }
      // Administrators act everywhere; only officers are scoped to an area.
      if (role === 'admin' && scopeCode) throw new DomainError('admin:adminIsGlobal');
      const area = scopeCode ? await db.area.findUnique({ where: { code: scopeCode } }) : null;
      if (role === 'officer' && !area) throw new DomainError('admin:areaNeeded', { code: scopeCode ?? '' });
      const existing = await db.roleGrant.findFirst({ where: { personId, role, areaId: area?.id ?? null, revokedAt: null } });
      if (existing) return;
      await db.roleGrant.create({ data: { personId, role, areaId: area?.id ?? null, grantedById: actorId, createdAt: now() } });
      await audit(actorId, `role.${role}.granted`, `person:${personId}`, { area: area?.code ?? null });
    },

    async revoke(actorId: string | null, personId: string, role: GrantableRole, scopeCode?: string): Promise<number> {
      if (role === 'leader' || role === 'deputy') {
        const group = scopeCode ? await db.group.findUnique({ where: { code: scopeCode } }) : null;
        if (!group) throw new DomainError('admin:groupNeeded', { code: scopeCode ?? '' });
        const { count } = await db.membership.updateMany({ where: { groupId: group.id, personId, role }, data: { role: 'member' } });
        if (count) await audit(actorId, `role.${role}.revoked`, `person:${personId}`, { group: group.code });
        return count;
      }
      const area = scopeCode ? await db.area.findUnique({ where: { code: scopeCode } }) : undefined;
      if (scopeCode && !area) throw new DomainError('admin:areaNeeded', { code: scopeCode });
      const { count } = await db.roleGrant.updateMany({
        where: { personId, role, revokedAt: null, ...(area ? { areaId: area.id } : {}) },
        data: { revokedAt: now() },
      });
      if (count) await audit(actorId, `role.${role}.revoked`, `person:${personId}`, { area: area?.code ?? null });
      return count;
    },

    auditLog(limit = 50) {
      return db.auditLog.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
    },
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
