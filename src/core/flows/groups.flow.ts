/**
 * /groups: the person's groups; for each, leave; for leaders and deputies also requests,
 * members, the invite code and notices. Every action is checked by the group service.
 */
import { choiceStep, textStep, type Flow, type FlowContext, type Step, type StepOutcome } from '../flow.js';
import type { Choice, Outbound } from '../messages.js';

export const MAX_NOTICE = 1500;
const ROLE_KEYS: Record<string, string> = { member: 'groups:role_member', deputy: 'groups:role_deputy', leader: 'groups:role_leader' };
const groupId = (ctx: FlowContext) => String(ctx.data.groupId ?? '');
const memberId = (ctx: FlowContext) => String(ctx.data.memberId ?? '');
const back = (ctx: FlowContext, id = 'grp:back'): Choice[] => [{ id, label: ctx.t('groups:back') }];
const roleText = (ctx: FlowContext, role: string) => ctx.t(ROLE_KEYS[role] ?? 'groups:role_member');

const list: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const mine = await ctx.services.groups.mine(ctx.identity.person.id);
    const rows: Choice[][] = mine.map((m) => [
      { id: `grp:open:${m.groupId}`, label: `${m.group.name} (${m.group.area.name})${m.state === 'pending' ? ' · ' + ctx.t('groups:state_pending') : ''}` },
    ]);
    // "Join another" only reads right for someone already in a group.
    rows.push([{ id: 'grp:join', label: ctx.t(mine.length ? 'groups:joinAnother' : 'groups:joinFirst') }]);
    rows.push([{ id: 'menu:menu', label: ctx.t('menu:backToMenu') }]);
    return { text: ctx.t(mine.length ? 'groups:myGroupsTitle' : 'groups:noGroups'), choices: rows };
  },
  choose(ctx, id): StepOutcome {
    if (id === 'grp:join') return { end: true, menu: false, next: { flow: 'join' } };
    ctx.data.groupId = id.slice('grp:open:'.length);
    return { goto: 'group' };
  },
});

const group: Step = choiceStep({
  async prompt(ctx): Promise<Outbound> {
    const me = ctx.identity.person.id;
    const g = await ctx.services.groups.get(groupId(ctx));
    const membership = (await ctx.services.groups.mine(me)).find((m) => m.groupId === groupId(ctx));
    if (!g) return { text: ctx.t('groups:notFound'), choices: [back(ctx)] };
    const lines = [
      ctx.t('groups:groupView', {
        group: g.name,
        area: g.area.name,
        role: roleText(ctx, membership?.role ?? 'member'),
        state: ctx.t(membership?.state === 'pending' ? 'groups:state_pending' : 'groups:state_active'),
      }),
    ];
    const rows: Choice[][] = [];
    if (await ctx.services.groups.canManage(me, g.id)) {
      const stats = await ctx.services.groups.stats(me, g.id);
      lines.push(ctx.t('groups:stats', { total: stats.total, pending: stats.pending, ...stats.byChannel }));
      rows.push([{ id: 'grp:pending', label: ctx.t('groups:pendingList', { count: stats.pending }) }]);
      rows.push([{ id: 'grp:members', label: ctx.t('groups:membersList') }]);
      rows.push([{ id: 'grp:code', label: ctx.t('groups:inviteCode') }, { id: 'grp:rotate', label: ctx.t('groups:rotateCode') }]);
      rows.push([{ id: 'grp:notice', label: ctx.t('groups:postNotice') }]);
    }
    if (membership) {
      rows.push([
        membership.shareContact ? { id: 'grp:hide', label: ctx.t('groups:shareNo') } : { id: 'grp:share', label: ctx.t('groups:shareYes') },
      ]);
      rows.push([{ id: 'grp:leave', label: ctx.t('groups:leave') }]);
      // Consultations of the group and their results stay reachable from the group's page.
      rows.push([{ id: 'menu:polls', label: ctx.t('groups:pollsOfGroup') }]);
    }
    rows.push(back(ctx, 'grp:list'));
    return { text: lines.join('\n'), choices: rows };
  },
  async choose(ctx, id): Promise<StepOutcome> {
    const me = ctx.identity.person.id;
    switch (id) {
      case 'grp:list':
        return { goto: 'list' };
      case 'grp:pending':
        return { goto: 'pending' };
      case 'grp:members':
        return { goto: 'members' };
      case 'grp:code': {
        const g = await ctx.services.groups.get(groupId(ctx));
        const code = await ctx.services.groups.inviteCode(me, groupId(ctx));
        return { goto: 'group', say: [{ text: ctx.t('groups:inviteCodeText', { group: g?.name ?? '', code }) }] };
      }
      case 'grp:rotate':
        return { goto: 'rotate' };
      case 'grp:notice':
        return { goto: 'notice' };
      case 'grp:leave':
        return { goto: 'leave' };
      case 'grp:share':
      case 'grp:hide': {
        const membership = (await ctx.services.groups.mine(me)).find((m) => m.groupId === groupId(ctx));
        if (!membership) return { goto: 'list' };
        const g = await ctx.services.groups.setShareContact(me, membership.id, id === 'grp:share');
        return { goto: 'group', say: [{ text: ctx.t(id === 'grp:share' ? 'groups:shareOn' : 'groups:shareOff', { group: g.name }) }] };
      }
      default:
        return { retry: { text: ctx.t('common:chooseFromList') } };
    }
  },
});

const leave: Step = choiceStep({
  async prompt(ctx) {
    const g = await ctx.services.groups.get(groupId(ctx));
    return {
      text: ctx.t('groups:leaveConfirm', { group: g?.name ?? '' }),
      choices: [[{ id: 'grp:leave:yes', label: ctx.t('groups:leaveYes') }], [{ id: 'grp:leave:no', label: ctx.t('groups:leaveNo') }]],
    };
  },
  async choose(ctx, id) {
    if (id !== 'grp:leave:yes') return { goto: 'group' };
    const g = await ctx.services.groups.leave(ctx.identity.person.id, groupId(ctx));
    return { end: true, say: [{ text: ctx.t('groups:left', { group: g.name }) }] };
  },
});

const pending: Step = choiceStep({
  async prompt(ctx) {
    const g = await ctx.services.groups.get(groupId(ctx));
    const requests = await ctx.services.groups.members(ctx.identity.person.id, groupId(ctx), ctx.t, 'pending');
    const rows: Choice[][] = requests.map((m) => [
      { id: `grp:ap:${m.membershipId}`, label: `${ctx.t('groups:approve')} · ${m.label}` },
      { id: `grp:rf:${m.membershipId}`, label: `${ctx.t('groups:refuse')} · ${m.label}` },
    ]);
    rows.push(back(ctx));
    return { text: requests.length ? ctx.t('groups:pendingTitle', { group: g?.name ?? '' }) : ctx.t('groups:pendingEmpty'), choices: rows };
  },
  async choose(ctx, id) {
    if (id === 'grp:back') return { goto: 'group' };
    const approve = id.startsWith('grp:ap:');
    const { group: g, changed } = await ctx.services.groups.decide(ctx.identity.person.id, id.slice('grp:ap:'.length), approve);
    const key = !changed ? 'groups:alreadyDecided' : approve ? 'groups:decidedApprove' : 'groups:decidedRefuse';
    return { goto: 'pending', say: [{ text: ctx.t(key, { group: g.name }) }] };
  },
});

const members: Step = choiceStep({
  async prompt(ctx) {
    const g = await ctx.services.groups.get(groupId(ctx));
    const entries = await ctx.services.groups.members(ctx.identity.person.id, groupId(ctx), ctx.t);
    const rows: Choice[][] = entries.map((m) => [{ id: `grp:m:${m.membershipId}`, label: ctx.t('groups:memberLine', { label: m.label, role: roleText(ctx, m.role) }) }]);
    rows.push(back(ctx));
    return { text: ctx.t('groups:membersTitle', { group: g?.name ?? '' }), choices: rows };
  },
  choose(ctx, id) {
    if (id === 'grp:back') return { goto: 'group' };
    ctx.data.memberId = id.slice('grp:m:'.length);
    return { goto: 'member' };
  },
});

async function memberEntry(ctx: FlowContext) {
  const entries = await ctx.services.groups.members(ctx.identity.person.id, groupId(ctx), ctx.t);
  return entries.find((m) => m.membershipId === memberId(ctx));
}

const member: Step = choiceStep({
  async prompt(ctx) {
    const m = await memberEntry(ctx);
    if (!m) return { text: ctx.t('groups:memberNotFound'), choices: [back(ctx)] };
    const rows: Choice[][] = [];
    if (m.role !== 'leader' && (await ctx.services.groups.canAppointDeputy(ctx.identity.person.id, groupId(ctx)))) {
      rows.push([m.role === 'deputy' ? { id: 'grp:undeputy', label: ctx.t('groups:unmakeDeputy') } : { id: 'grp:deputy', label: ctx.t('groups:makeDeputy') }]);
    }
    const mediation = await ctx.services.mediation.mediatorOfMembership(ctx.identity.person.id, memberId(ctx));
    if (mediation.canAppoint) {
      rows.push([mediation.mediator ? { id: 'grp:unmediator', label: ctx.t('groups:unmakeMediator') } : { id: 'grp:mediator', label: ctx.t('groups:makeMediator') }]);
    }
    rows.push([{ id: 'grp:remove', label: ctx.t('groups:removeMember') }]);
    rows.push(back(ctx));
    return { text: ctx.t('groups:memberActions', { label: m.label, role: roleText(ctx, m.role) }), choices: rows };
  },
  async choose(ctx, id) {
    if (id === 'grp:back') return { goto: 'members' };
    if (id === 'grp:remove') return { goto: 'removeMember' };
    const m = await memberEntry(ctx);
    if (id === 'grp:mediator' || id === 'grp:unmediator') {
      await ctx.services.mediation.setMediatorByMembership(ctx.identity.person.id, memberId(ctx), id === 'grp:mediator');
      return { goto: 'members', say: [{ text: ctx.t('groups:mediatorDone', { label: m?.label ?? '' }) }] };
    }
    await ctx.services.groups.setDeputy(ctx.identity.person.id, memberId(ctx), id === 'grp:deputy');
    return { goto: 'members', say: [{ text: ctx.t('groups:deputyDone', { label: m?.label ?? '' }) }] };
  },
});

const removeMember: Step = choiceStep({
  async prompt(ctx) {
    const m = await memberEntry(ctx);
    const g = await ctx.services.groups.get(groupId(ctx));
    return {
      text: ctx.t('groups:removeConfirm', { label: m?.label ?? '', group: g?.name ?? '' }),
      choices: [[{ id: 'grp:remove:yes', label: ctx.t('groups:removeYes') }], back(ctx)],
    };
  },
  async choose(ctx, id) {
    if (id !== 'grp:remove:yes') return { goto: 'member' };
    const m = await memberEntry(ctx);
    await ctx.services.groups.remove(ctx.identity.person.id, memberId(ctx));
    return { goto: 'members', say: [{ text: ctx.t('groups:removed', { label: m?.label ?? '' }) }] };
  },
});

const rotate: Step = choiceStep({
  async prompt(ctx) {
    const g = await ctx.services.groups.get(groupId(ctx));
    return { text: ctx.t('groups:rotateConfirm', { group: g?.name ?? '' }), choices: [[{ id: 'grp:rotate:yes', label: ctx.t('groups:rotateYes') }], back(ctx)] };
  },
  async choose(ctx, id) {
    if (id !== 'grp:rotate:yes') return { goto: 'group' };
    const g = await ctx.services.groups.get(groupId(ctx));
    const code = await ctx.services.groups.rotateInviteCode(ctx.identity.person.id, groupId(ctx));
    return { goto: 'group', say: [{ text: ctx.t('groups:rotated', { group: g?.name ?? '', code }) }] };
  },
});

const notice: Step = textStep({
  async prompt(ctx) {
    const g = await ctx.services.groups.get(groupId(ctx));
    return { text: ctx.t('groups:noticeAsk', { group: g?.name ?? '', max: MAX_NOTICE }), choices: [back(ctx)] };
  },
  maxLength: MAX_NOTICE,
  async text(ctx, text) {
    const count = await ctx.services.groups.postNotice(ctx.identity.person.id, groupId(ctx), text);
    return { goto: 'group', say: [{ text: ctx.t('groups:noticeSent', { count }) }] };
  },
  choose: () => ({ goto: 'group' }),
});

export const groupsFlow: Flow = {
  name: 'groups',
  first: 'list',
  steps: { list, group, leave, pending, members, member, removeMember, rotate, notice },
};
