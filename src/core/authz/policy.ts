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
}

export interface CaseResource {
  kind: 'case';
  reporterId: string | null;
  groupId: string | null;
  /** The case's area and every area above it. */
  areaChain: string[];
  level: 'group' | 'ward' | 'district';
  status: string;
}

export interface GroupResource {
  kind: 'group';
  groupId: string;
  areaChain: string[];
}

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
  | 'group.appointDeputy'; // appoint or remove deputies (leaders, not deputies)

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
export function can(actor: Actor, action: CaseAction | GroupAction, resource: CaseResource | GroupResource): boolean {
  if (resource.kind === 'group') {
    const member = actor.memberships.some((m) => m.groupId === resource.groupId);
    switch (action) {
      case 'group.report':
        return member;
      case 'group.alert':
      case 'group.manage':
        return actor.admin || isLeaderOf(actor, resource.groupId) || isOfficerFor(actor, resource.areaChain);
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
      // group -> ward by anyone handling it; ward -> district only by police (or an admin).
      return isHandler(actor, c) && isOpen(c.status) && (c.level === 'group' || (c.level === 'ward' && (actor.admin || isOfficerFor(actor, c.areaChain))));
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
