import type { Db, Group, Membership } from './db.js';
import { normaliseCode } from '../codes.js';

export type JoinOutcome = 'joined' | 'pending' | 'already';

export function createGroupService(db: Db) {
  return {
    get(id: string) {
      return db.group.findUnique({ where: { id }, include: { area: true } });
    },
    findByInviteCode(typed: string) {
      const code = normaliseCode(typed);
      if (!code) return Promise.resolve(null);
      return db.group.findUnique({ where: { inviteCode: code }, include: { area: true } });
    },
    /** Joins an open group at once; a group by approval gets a pending request. */
    async join(personId: string, group: Group): Promise<{ outcome: JoinOutcome; membership: Membership }> {
      const existing = await db.membership.findUnique({ where: { groupId_personId: { groupId: group.id, personId } } });
      if (existing && (existing.state === 'active' || existing.state === 'pending')) {
        return { outcome: existing.state === 'active' ? 'already' : 'pending', membership: existing };
      }
      const state = group.joinPolicy === 'approval' ? 'pending' : 'active';
      const membership = existing
        ? await db.membership.update({ where: { id: existing.id }, data: { state, role: 'member' } })
        : await db.membership.create({ data: { groupId: group.id, personId, state } });
      await db.auditLog.create({
        data: { actorId: personId, action: state === 'active' ? 'membership.joined' : 'membership.requested', subject: `group:${group.id}` },
      });
      return { outcome: state === 'active' ? 'joined' : 'pending', membership };
    },
    /** Memberships that are active or waiting, with their group and area. */
    mine(personId: string) {
      return db.membership.findMany({
        where: { personId, state: { in: ['active', 'pending'] } },
        include: { group: { include: { area: true } } },
        orderBy: { createdAt: 'asc' },
      });
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
