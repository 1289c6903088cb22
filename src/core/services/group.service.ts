/**
 * Residential groups: joining (open or by approval), leaving, and what leaders do —
 * decide requests, see counts, remove members, appoint deputies, rotate the invite code,
 * post notices. Members' names are shown to leaders only when they chose to share them.
 */
import { createHash } from 'node:crypto';
import type { Db, Group, Membership } from './db.js';
import { normaliseCode, randomCode } from '../codes.js';
import { can, type GroupAction } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import type { Outbox } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import type { Clock } from '../ports/clock.js';
import { alertSenderOf } from './alert.catalog.js';

export type JoinOutcome = 'joined' | 'pending' | 'already';

type T = (key: string, params?: Record<string, unknown>) => string;

export interface MemberEntry {
  membershipId: string;
  label: string;
  role: string;
  channel: string | null;
}

/** A stable, meaningless label for a member who did not share their name ("#K7Q2"). */
export function memberAlias(membershipId: string): string {
  const hash = createHash('sha256').update(membershipId).digest();
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  return [...hash.subarray(0, 4)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The first line of a notice names who sent it, by role. */
const NOTICE_KEYS = {
  leader: 'groups:noticeToMembers',
  deputy: 'groups:noticeToMembersDeputy',
  officer: 'groups:noticeToMembersOfficer',
  admin: 'groups:noticeToMembersAdmin',
} as const;

export function createGroupService(deps: { db: Db; outbox?: Outbox; actors?: ActorService; clock?: Clock }) {
  const { db } = deps;
  const now = () => deps.clock?.now() ?? new Date();

  async function audit(actorId: string | null, action: string, subject: string, detail: Record<string, unknown> = {}) {
    await db.auditLog.create({ data: { actorId, action, subject, detail: JSON.stringify(detail), createdAt: now() } });
  }

  async function authorize(actorId: string, action: GroupAction, groupId: string): Promise<Group> {
    const group = await db.group.findUnique({ where: { id: groupId } });
    if (!group || !deps.actors) throw new DomainError('groups:notFound');
    const allowed = can(await deps.actors.actor(actorId), action, { kind: 'group', groupId, areaChain: await deps.actors.areaChain(group.areaId) });
    if (!allowed) throw new DomainError('groups:forbidden', { group: group.name });
    return group;
  }

  async function membershipInGroup(membershipId: string) {
    const m = await db.membership.findUnique({ where: { id: membershipId }, include: { group: true, person: true } });
    if (!m) throw new DomainError('groups:memberNotFound');
    return m;
  }

  /** Queues a message to people, in each one's language. */
  async function tell(personIds: string[], render: (t: T) => { text: string; choices?: { id: string; label: string }[][] }, kind = 'notice') {
    if (!deps.outbox || !personIds.length) return;
    const recipients = await deps.outbox.recipients(db, personIds);
    deps.outbox.notify(await deps.outbox.enqueue(db, kind, recipients, (t) => render(t)));
  }

  async function leadersOf(groupId: string): Promise<string[]> {
    const rows = await db.membership.findMany({ where: { groupId, state: 'active', role: { in: ['leader', 'deputy'] } }, select: { personId: true } });
    return rows.map((r) => r.personId);
  }

  /**
   * Who decides a join request (L9): the group's leaders and deputies; for a group with none,
   * the officers of its area (the nearest area up the tree that has any), and the
   * administrators when no officer covers it. Nobody's request waits unseen.
   */
  async function deciders(group: Group): Promise<string[]> {
    const leaders = await leadersOf(group.id);
    if (leaders.length) return leaders;
    return handlersWithoutLeader(group);
  }

  async function handlersWithoutLeader(group: Group): Promise<string[]> {
    let areaId: string | null = group.areaId;
    for (let depth = 0; areaId && depth < 10; depth++) {
      const officers = await db.roleGrant.findMany({ where: { role: 'officer', areaId, revokedAt: null }, select: { personId: true } });
      if (officers.length) return [...new Set(officers.map((o) => o.personId))];
      const area: { parentId: string | null } | null = await db.area.findUnique({ where: { id: areaId }, select: { parentId: true } });
      areaId = area?.parentId ?? null;
    }
    const admins = await db.roleGrant.findMany({ where: { role: 'admin', revokedAt: null }, select: { personId: true } });
    return [...new Set(admins.map((a) => a.personId))];
  }

  const service = {
    get(id: string) {
      return db.group.findUnique({ where: { id }, include: { area: true } });
    },
    findByInviteCode(typed: string) {
      const code = normaliseCode(typed);
      if (!code) return Promise.resolve(null);
      return db.group.findUnique({ where: { inviteCode: code }, include: { area: true } });
    },

    /**
     * Joins an open group at once; a group by approval gets a pending request its leaders are told of.
     * `shareContact` is whether its leaders may see the person's name (asked as one joins);
     * `note` is what the person chose to tell the leaders who approve the request (name, house number).
     */
    async join(personId: string, group: Group, shareContact = false, note?: string): Promise<{ outcome: JoinOutcome; membership: Membership }> {
      const existing = await db.membership.findUnique({ where: { groupId_personId: { groupId: group.id, personId } } });
      if (existing && (existing.state === 'active' || existing.state === 'pending')) {
        return { outcome: existing.state === 'active' ? 'already' : 'pending', membership: existing };
      }
      const state = group.joinPolicy === 'approval' ? 'pending' : 'active';
      const membership = existing
        ? await db.membership.update({ where: { id: existing.id }, data: { state, role: 'member', shareContact } })
        : await db.membership.create({ data: { groupId: group.id, personId, state, shareContact } });
      await audit(personId, state === 'active' ? 'membership.joined' : 'membership.requested', `group:${group.id}`);
      // Answering "show my name" as one joins is the same choice as the group view's toggle, and logged alike.
      if (shareContact) await audit(personId, 'membership.shareName', `membership:${membership.id}`);
      if (state === 'pending') {
        const person = await db.person.findUnique({ where: { id: personId } });
        const who = (t: T) => (shareContact && person?.displayName ? person.displayName : t('groups:memberAlias', { alias: memberAlias(membership.id) }));
        const leaderless = !(await leadersOf(group.id)).length;
        await tell(await deciders(group), (t) => ({
          text: [
            note ? t('groups:requestToLeadersNote', { who: who(t), group: group.name, note }) : t('groups:requestToLeaders', { who: who(t), group: group.name }),
            leaderless ? t('groups:requestNoLeader', { group: group.name }) : '',
          ].filter(Boolean).join('\n'),
          choices: [[{ id: `g:${membership.id}:approve`, label: t('groups:approve') }, { id: `g:${membership.id}:refuse`, label: t('groups:refuse') }]],
        }));
      }
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

    async leave(personId: string, groupId: string): Promise<Group> {
      const m = await db.membership.findUnique({ where: { groupId_personId: { groupId, personId } }, include: { group: true } });
      if (!m || (m.state !== 'active' && m.state !== 'pending')) throw new DomainError('groups:notMember');
      await db.membership.update({ where: { id: m.id }, data: { state: 'left', role: 'member' } });
      await audit(personId, 'membership.left', `group:${groupId}`);
      return m.group;
    },

    /** The member decides whether the group's leaders see their display name. */
    async setShareContact(personId: string, membershipId: string, share: boolean): Promise<Group> {
      const m = await membershipInGroup(membershipId);
      if (m.personId !== personId) throw new DomainError('groups:memberNotFound');
      await db.membership.update({ where: { id: m.id }, data: { shareContact: share } });
      await audit(personId, share ? 'membership.shareName' : 'membership.hideName', `membership:${m.id}`);
      return m.group;
    },

    async canManage(personId: string, groupId: string): Promise<boolean> {
      return authorize(personId, 'group.manage', groupId).then(
        () => true,
        () => false,
      );
    },

    async canAppointDeputy(personId: string, groupId: string): Promise<boolean> {
      return authorize(personId, 'group.appointDeputy', groupId).then(
        () => true,
        () => false,
      );
    },

    /** Counts for leaders: active members by the channel they use, and pending requests. */
    async stats(actorId: string, groupId: string) {
      await authorize(actorId, 'group.manage', groupId);
      const members = await db.membership.findMany({
        where: { groupId, state: 'active' },
        select: { person: { select: { accounts: { orderBy: { lastSeenAt: 'desc' }, take: 1, select: { channel: true } } } } },
      });
      const byChannel: Record<string, number> = { telegram: 0, zalo: 0, web: 0 };
      for (const m of members) {
        const channel = m.person.accounts[0]?.channel;
        if (channel) byChannel[channel] = (byChannel[channel] ?? 0) + 1;
      }
      const pending = await db.membership.count({ where: { groupId, state: 'pending' } });
      return { total: members.length, byChannel, pending };
    },

    /** Members as a leader may see them: a name only when the member chose to share it. */
    async members(actorId: string, groupId: string, t: T, state: 'active' | 'pending' = 'active'): Promise<MemberEntry[]> {
      await authorize(actorId, 'group.manage', groupId);
      const rows = await db.membership.findMany({
        where: { groupId, state },
        include: { person: { select: { displayName: true, phone: true, accounts: { orderBy: { lastSeenAt: 'desc' }, take: 1, select: { channel: true } } } } },
        orderBy: [{ role: 'asc' }, { createdAt: 'asc' }],
        take: 200,
      });
      return rows.map((m) => ({
        membershipId: m.id,
        label: m.shareContact && (m.person.displayName || m.person.phone)
          ? [m.person.displayName, m.person.phone].filter(Boolean).join(' · ')
          : t('groups:memberAlias', { alias: memberAlias(m.id) }),
        role: m.role,
        channel: m.person.accounts[0]?.channel ?? null,
      }));
    },

    async decide(actorId: string, membershipId: string, approve: boolean): Promise<{ group: Group; changed: boolean }> {
      const m = await membershipInGroup(membershipId);
      await authorize(actorId, 'group.manage', m.groupId);
      if (m.state !== 'pending') return { group: m.group, changed: false };
      await db.membership.update({ where: { id: m.id }, data: { state: approve ? 'active' : 'refused' } });
      await audit(actorId, approve ? 'membership.approved' : 'membership.refused', `membership:${m.id}`, { group: m.groupId });
      await tell([m.personId], (t) => ({ text: t(approve ? 'groups:approvedToMember' : 'groups:refusedToMember', { group: m.group.name }) }));
      return { group: m.group, changed: true };
    },

    async remove(actorId: string, membershipId: string): Promise<Group> {
      const m = await membershipInGroup(membershipId);
      await authorize(actorId, 'group.manage', m.groupId);
      if (m.personId === actorId) throw new DomainError('groups:cannotRemoveSelf');
      if (m.role === 'leader') await authorize(actorId, 'group.appointDeputy', m.groupId);
      await db.membership.update({ where: { id: m.id }, data: { state: 'removed', role: 'member' } });
      await audit(actorId, 'membership.removed', `membership:${m.id}`, { group: m.groupId });
      await tell([m.personId], (t) => ({ text: t('groups:removedToMember', { group: m.group.name }) }));
      return m.group;
    },

    async setDeputy(actorId: string, membershipId: string, deputy: boolean): Promise<Group> {
      const m = await membershipInGroup(membershipId);
      await authorize(actorId, 'group.appointDeputy', m.groupId);
      if (m.state !== 'active' || m.role === 'leader') throw new DomainError('groups:cannotChangeRole');
      await db.membership.update({ where: { id: m.id }, data: { role: deputy ? 'deputy' : 'member' } });
      await audit(actorId, deputy ? 'role.deputy.granted' : 'role.deputy.revoked', `membership:${m.id}`, { group: m.groupId });
      await tell([m.personId], (t) => ({ text: t(deputy ? 'groups:deputyGranted' : 'groups:deputyRevoked', { group: m.group.name }) }));
      return m.group;
    },

    async rotateInviteCode(actorId: string, groupId: string): Promise<string> {
      await authorize(actorId, 'group.manage', groupId);
      for (let i = 0; i < 10; i++) {
        const code = randomCode(7);
        if (await db.group.findUnique({ where: { inviteCode: code } })) continue;
        await db.group.update({ where: { id: groupId }, data: { inviteCode: code } });
        await audit(actorId, 'group.inviteRotated', `group:${groupId}`);
        return code;
      }
      throw new Error('could not find a free invite code');
    },

    async inviteCode(actorId: string, groupId: string): Promise<string> {
      return (await authorize(actorId, 'group.manage', groupId)).inviteCode;
    },

    /** A notice to every active member, through the outbox. Returns how many it goes to. */
    async postNotice(actorId: string, groupId: string, text: string): Promise<number> {
      const group = await authorize(actorId, 'group.manage', groupId);
      const members = await db.membership.findMany({ where: { groupId, state: 'active' }, select: { personId: true } });
      const ids = members.map((m) => m.personId);
      // Who speaks: the group's leader or a deputy, the police above it, or an administrator.
      const sender = (await alertSenderOf(db, deps.actors!, actorId, [groupId]))?.[0];
      const key = sender ? NOTICE_KEYS[sender.role] : 'groups:noticeToMembersOther';
      await tell(ids, (t) => ({ text: t(key, { group: group.name, unit: sender?.unit ?? '', text }) }));
      await audit(actorId, 'group.notice', `group:${groupId}`, { recipients: ids.length });
      return ids.length;
    },
  };
  return service;
}

export type GroupService = ReturnType<typeof createGroupService>;
