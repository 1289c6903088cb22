/**
 * The one place that answers "may this person do this to that". Pure: everything it
 * needs is in the actor and the resource, so it is tested as a matrix.
 */

export interface Actor {
  personId: string;
  /** Active memberships only. */
  memberships: { groupId: string; role: 'member' | 'deputy' | 'leader' }[];
  /** Areas this person is an officer for (each covers everything below it). */
  officerAreaIds: string[];
  admin: boolean;
  /** Groups whose mediation team (tổ hòa giải) this person is on; `lead` for the team's leader. Loaded where mediation needs it. */
  mediatorOf?: { groupId: string; lead: boolean }[];
}

export interface CaseResource {
  kind: 'case';
  reporterId: string | null;
  groupId: string | null;
  /** The case's area and every area above it. */
  areaChain: string[];
  /** With the group's leaders, or with the police of an area (which one is data: the imported tree). */
  level: 'group' | 'area';
  /** There is a police unit above the one handling it now (false at the top of the tree). */
  canClimb: boolean;
  status: string;
}

export interface GroupResource {
  kind: 'group';
  groupId: string;
  areaChain: string[];
}

/** A mediation request between neighbours (tự hòa giải). */
export interface MediationResource {
  kind: 'mediation';
  groupId: string;
  requesterId: string | null;
  otherPartyId: string | null;
  status: string;
  /** The group has a mediation team; until it has one, its leaders and deputies act as the team. */
  hasTeam: boolean;
  /** The group's area and every area above it (needed for 'mediation.oversee' only). */
  areaChain?: string[];
}

export type MediationAction =
  | 'mediation.handle' // the group's mediation team: see the request, accept, refer, propose a session, record the outcome
  | 'mediation.withdraw' // either party, until it is concluded
  | 'mediation.respond' // either party: consent, answer a proposed session, say whether the agreement holds
  | 'mediation.oversee'; // the police of the group's area (and admins): see that a request was referred to them, not what was said

const MEDIATION_OPEN = ['new', 'accepted', 'scheduled'];

export type CaseAction =
  | 'case.view'
  | 'case.handle' // list in /cases and open as a handler
  | 'case.acknowledge'
  | 'case.ask'
  | 'case.note'
  | 'case.resolve'
  | 'case.duplicate'
  | 'case.escalate'
  | 'case.reopen'
  | 'case.addInfo'
  | 'case.confirmFixed';

export type GroupAction =
  | 'group.report' // file a report about the group (active members)
  | 'group.alert' // send an alert to it
  | 'group.manage' // pending requests, member counts, remove members, rotate the invite code, post notices
  | 'group.appointDeputy' // appoint or remove deputies (leaders, not deputies)
  | 'group.consult' // ask its members a question (a poll or consultation, "dân bàn")
  | 'group.answer' // answer a question asked to the group (active members; one answer per person)
  | 'group.appointMediator'; // appoint or remove members of the group's mediation team

export const OPEN_STATUSES = ['new', 'acknowledged', 'waiting_reporter', 'reopened'] as const;
const isOpen = (status: string) => (OPEN_STATUSES as readonly string[]).includes(status);

export function isLeaderOf(actor: Actor, groupId: string | null): boolean {
  return groupId !== null && actor.memberships.some((m) => m.groupId === groupId && (m.role === 'leader' || m.role === 'deputy'));
}

export function isOfficerFor(actor: Actor, areaChain: string[]): boolean {
  return actor.officerAreaIds.some((id) => areaChain.includes(id));
}

/** Leaders and deputies of the case's group, officers above its area, admins. */
function isHandler(actor: Actor, c: CaseResource): boolean {
  return actor.admin || isLeaderOf(actor, c.groupId) || isOfficerFor(actor, c.areaChain);
}

export function can(actor: Actor, action: CaseAction, resource: CaseResource): boolean;
export function can(actor: Actor, action: GroupAction, resource: GroupResource): boolean;
export function can(actor: Actor, action: MediationAction, resource: MediationResource): boolean;
export function can(actor: Actor, action: CaseAction | GroupAction | MediationAction, resource: CaseResource | GroupResource | MediationResource): boolean {
  if (resource.kind === 'mediation') {
    const m = resource;
    const party = (m.requesterId !== null && m.requesterId === actor.personId) || (m.otherPartyId !== null && m.otherPartyId === actor.personId);
    const team = actor.admin || (actor.mediatorOf ?? []).some((x) => x.groupId === m.groupId) || (!m.hasTeam && isLeaderOf(actor, m.groupId));
    switch (action) {
      case 'mediation.handle':
        // A party is never the team of their own dispute: the team reads what each party said.
        return team && !party;
      case 'mediation.oversee':
        return m.status === 'referred' && (actor.admin || isOfficerFor(actor, m.areaChain ?? []));
      case 'mediation.withdraw':
        return party && MEDIATION_OPEN.includes(m.status);
      case 'mediation.respond':
        return party;
      default:
        return false;
    }
  }
  if (resource.kind === 'group') {
    const member = actor.memberships.some((m) => m.groupId === resource.groupId);
    switch (action) {
      case 'group.report':
      case 'group.answer':
        return member;
      case 'group.alert':
      case 'group.consult':
      case 'group.manage':
        return actor.admin || isLeaderOf(actor, resource.groupId) || isOfficerFor(actor, resource.areaChain);
      case 'group.appointMediator':
        return (
          actor.admin ||
          actor.memberships.some((m) => m.groupId === resource.groupId && m.role === 'leader') ||
          (actor.mediatorOf ?? []).some((m) => m.groupId === resource.groupId && m.lead) ||
          isOfficerFor(actor, resource.areaChain)
        );
      case 'group.appointDeputy':
        return (
          actor.admin ||
          actor.memberships.some((m) => m.groupId === resource.groupId && m.role === 'leader') ||
          isOfficerFor(actor, resource.areaChain)
        );
      default:
        return false;
    }
  }
  const c = resource;
  const reporter = c.reporterId !== null && c.reporterId === actor.personId;
  switch (action) {
    case 'case.view':
      return reporter || isHandler(actor, c);
    case 'case.handle':
      return isHandler(actor, c);
    case 'case.acknowledge':
    case 'case.ask':
    case 'case.note':
    case 'case.resolve':
    case 'case.duplicate':
      return isHandler(actor, c) && isOpen(c.status);
    case 'case.escalate':
      // group -> the nearest police unit by anyone handling it; further up (commune/ward -> province)
      // only by police (or an admin), and never past the top of the tree.
      return isHandler(actor, c) && isOpen(c.status) && c.canClimb && (c.level === 'group' || actor.admin || isOfficerFor(actor, c.areaChain));
    case 'case.reopen':
      return isHandler(actor, c) && !isOpen(c.status);
    case 'case.addInfo':
      return reporter && (isOpen(c.status) || c.status === 'resolved');
    case 'case.confirmFixed':
      return reporter && c.status === 'resolved';
    default:
      return false;
  }
}

/**
 * Joining an open group by picking it in the area tree, without an invite code. A public web
 * chat can be opened by anyone on the internet, so there a group is joined with its code only
 * (a messenger account at least belongs to a real phone number).
 */
export function mayJoinByBrowsing(channel: string, rules: { webJoinNeedsInviteCode: boolean }): boolean {
  return !(channel === 'web' && rules.webJoinNeedsInviteCode);
}
