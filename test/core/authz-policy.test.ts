/**
 * The authorization matrix: every actor against every action, written out by hand.
 * The expected grids are the product rules (issue 3, "Authorization"), not a copy of
 * the implementation: change a cell only when the rule changes.
 *
 * The place: province P > district D > wards W (the case's) and W2 (another ward).
 * Group G is in ward W; group G2 is another group. The case was reported in G by the
 * resident.
 */
import { describe, expect, it } from 'vitest';
import { can, type Actor, type CaseAction, type CaseResource, type GroupAction, type GroupResource } from '../../src/core/authz/policy.js';

const P = 'area-province';
const D = 'area-district';
const W = 'area-ward';
const W2 = 'area-other-ward';
const G = 'group-1';
const G2 = 'group-2';

const actor = (personId: string, more: Partial<Actor> = {}): Actor => ({ personId, memberships: [], officerAreaIds: [], admin: false, ...more });

/** Column order of every grid below. */
const ACTORS = {
  resident: actor('resident', { memberships: [{ groupId: G, role: 'member' }] }), // the reporter
  otherGroup: actor('other-group-member', { memberships: [{ groupId: G2, role: 'member' }] }),
  member: actor('plain-member', { memberships: [{ groupId: G, role: 'member' }] }), // same group, not the reporter
  leader: actor('leader', { memberships: [{ groupId: G, role: 'leader' }] }),
  deputy: actor('deputy', { memberships: [{ groupId: G, role: 'deputy' }] }),
  wardOfficer: actor('ward-officer', { officerAreaIds: [W] }),
  districtOfficer: actor('district-officer', { officerAreaIds: [D] }),
  otherWardOfficer: actor('other-ward-officer', { officerAreaIds: [W2] }),
  admin: actor('admin', { admin: true }),
} satisfies Record<string, Actor>;
type ActorName = keyof typeof ACTORS;
const COLUMNS = Object.keys(ACTORS) as ActorName[];

/** A row is one letter per actor, in COLUMNS order: Y = allowed, . = refused. */
function parseRow(row: string): boolean[] {
  const cells = row.trim().split(/\s+/);
  if (cells.length !== COLUMNS.length || cells.some((c) => c !== 'Y' && c !== '.')) throw new Error(`bad matrix row "${row}"`);
  return cells.map((c) => c === 'Y');
}

const caseIn = (status: string, level: CaseResource['level'] = 'group', canClimb = true): CaseResource => ({
  kind: 'case',
  reporterId: 'resident',
  groupId: G,
  areaChain: [W, D, P],
  level,
  canClimb,
  status,
});

const ALL_CASE_ACTIONS: CaseAction[] = [
  'case.view',
  'case.handle',
  'case.acknowledge',
  'case.ask',
  'case.note',
  'case.resolve',
  'case.duplicate',
  'case.escalate',
  'case.reopen',
  'case.addInfo',
  'case.confirmFixed',
];

// prettier-ignore
const CASE_MATRIX: Record<string, { resource: CaseResource; rows: Record<CaseAction, string> }> = {
  'open (new, at group level)': {
    resource: caseIn('new'),
    rows: {
      //                    resident otherGroup member leader deputy wardOff distOff otherWardOff admin
      'case.view':         'Y        .          .      Y      Y      Y       Y       .            Y',
      'case.handle':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.acknowledge':  '.        .          .      Y      Y      Y       Y       .            Y',
      'case.ask':          '.        .          .      Y      Y      Y       Y       .            Y',
      'case.note':         '.        .          .      Y      Y      Y       Y       .            Y',
      'case.resolve':      '.        .          .      Y      Y      Y       Y       .            Y',
      'case.duplicate':    '.        .          .      Y      Y      Y       Y       .            Y',
      'case.escalate':     '.        .          .      Y      Y      Y       Y       .            Y',
      'case.reopen':       '.        .          .      .      .      .       .       .            .',
      'case.addInfo':      'Y        .          .      .      .      .       .       .            .',
      'case.confirmFixed': '.        .          .      .      .      .       .       .            .',
    },
  },
  'resolved': {
    resource: caseIn('resolved'),
    rows: {
      //                    resident otherGroup member leader deputy wardOff distOff otherWardOff admin
      'case.view':         'Y        .          .      Y      Y      Y       Y       .            Y',
      'case.handle':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.acknowledge':  '.        .          .      .      .      .       .       .            .',
      'case.ask':          '.        .          .      .      .      .       .       .            .',
      'case.note':         '.        .          .      .      .      .       .       .            .',
      'case.resolve':      '.        .          .      .      .      .       .       .            .',
      'case.duplicate':    '.        .          .      .      .      .       .       .            .',
      'case.escalate':     '.        .          .      .      .      .       .       .            .',
      'case.reopen':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.addInfo':      'Y        .          .      .      .      .       .       .            .',
      'case.confirmFixed': 'Y        .          .      .      .      .       .       .            .',
    },
  },
  'closed': {
    resource: caseIn('closed'),
    rows: {
      //                    resident otherGroup member leader deputy wardOff distOff otherWardOff admin
      'case.view':         'Y        .          .      Y      Y      Y       Y       .            Y',
      'case.handle':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.acknowledge':  '.        .          .      .      .      .       .       .            .',
      'case.ask':          '.        .          .      .      .      .       .       .            .',
      'case.note':         '.        .          .      .      .      .       .       .            .',
      'case.resolve':      '.        .          .      .      .      .       .       .            .',
      'case.duplicate':    '.        .          .      .      .      .       .       .            .',
      'case.escalate':     '.        .          .      .      .      .       .       .            .',
      'case.reopen':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.addInfo':      '.        .          .      .      .      .       .       .            .',
      'case.confirmFixed': '.        .          .      .      .      .       .       .            .',
    },
  },
  'open (new) with the commune/ward police: only police (or an admin) move it on to the next unit up': {
    resource: caseIn('new', 'area'),
    rows: {
      //                    resident otherGroup member leader deputy wardOff distOff otherWardOff admin
      'case.view':         'Y        .          .      Y      Y      Y       Y       .            Y',
      'case.handle':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.acknowledge':  '.        .          .      Y      Y      Y       Y       .            Y',
      'case.ask':          '.        .          .      Y      Y      Y       Y       .            Y',
      'case.note':         '.        .          .      Y      Y      Y       Y       .            Y',
      'case.resolve':      '.        .          .      Y      Y      Y       Y       .            Y',
      'case.duplicate':    '.        .          .      Y      Y      Y       Y       .            Y',
      'case.escalate':     '.        .          .      .      .      Y       Y       .            Y',
      'case.reopen':       '.        .          .      .      .      .       .       .            .',
      'case.addInfo':      'Y        .          .      .      .      .       .       .            .',
      'case.confirmFixed': '.        .          .      .      .      .       .       .            .',
    },
  },
  'open (new) with the top police unit of the tree (the province): nobody moves it further': {
    resource: caseIn('new', 'area', false),
    rows: {
      //                    resident otherGroup member leader deputy wardOff distOff otherWardOff admin
      'case.view':         'Y        .          .      Y      Y      Y       Y       .            Y',
      'case.handle':       '.        .          .      Y      Y      Y       Y       .            Y',
      'case.acknowledge':  '.        .          .      Y      Y      Y       Y       .            Y',
      'case.ask':          '.        .          .      Y      Y      Y       Y       .            Y',
      'case.note':         '.        .          .      Y      Y      Y       Y       .            Y',
      'case.resolve':      '.        .          .      Y      Y      Y       Y       .            Y',
      'case.duplicate':    '.        .          .      Y      Y      Y       Y       .            Y',
      'case.escalate':     '.        .          .      .      .      .       .       .            .',
      'case.reopen':       '.        .          .      .      .      .       .       .            .',
      'case.addInfo':      'Y        .          .      .      .      .       .       .            .',
      'case.confirmFixed': '.        .          .      .      .      .       .       .            .',
    },
  },
};

const GROUP: GroupResource = { kind: 'group', groupId: G, areaChain: [W, D, P] };
const GROUP_ACTIONS: GroupAction[] = ['group.report', 'group.alert', 'group.manage', 'group.appointDeputy', 'group.consult', 'group.answer', 'group.appointMediator'];

// prettier-ignore
const GROUP_MATRIX: Record<GroupAction, string> = {
  //                      resident otherGroup member leader deputy wardOff distOff otherWardOff admin
  'group.report':        'Y        .          Y      Y      Y      .       .       .            .',
  'group.alert':         '.        .          .      Y      Y      Y       Y       .            Y',
  'group.manage':        '.        .          .      Y      Y      Y       Y       .            Y',
  'group.appointDeputy': '.        .          .      Y      .      Y       Y       .            Y',
  'group.consult':       '.        .          .      Y      Y      Y       Y       .            Y',
  'group.answer':        'Y        .          Y      Y      Y      .       .       .            .',
  'group.appointMediator': '.      .          .      Y      .      Y       Y       .            Y',
};

describe('authorization policy: case actions', () => {
  for (const [state, { resource, rows }] of Object.entries(CASE_MATRIX)) {
    it(`covers every case action for a case that is ${state}`, () => {
      expect(Object.keys(rows).sort()).toEqual([...ALL_CASE_ACTIONS].sort());
    });
    for (const action of ALL_CASE_ACTIONS) {
      const expected = parseRow(rows[action]);
      it.each(COLUMNS.map((name, i) => [name, expected[i]] as const))(`${state}: ${action} by %s -> %s`, (name, allowed) => {
        expect(can(ACTORS[name], action, resource)).toBe(allowed);
      });
    }
  }

  it('unknown actions are refused, even to an admin', () => {
    expect(can(ACTORS.admin, 'case.nonsense' as CaseAction, caseIn('new'))).toBe(false);
    expect(can(ACTORS.admin, 'group.nonsense' as GroupAction, GROUP)).toBe(false);
  });

  it('a case whose reporter was erased (reporterId null) is nobody\'s own case, handlers keep it', () => {
    const erased: CaseResource = { ...caseIn('resolved'), reporterId: null };
    expect(can(ACTORS.resident, 'case.view', erased)).toBe(false);
    expect(can(ACTORS.resident, 'case.confirmFixed', erased)).toBe(false);
    expect(can(ACTORS.resident, 'case.addInfo', erased)).toBe(false);
    expect(can(ACTORS.leader, 'case.reopen', erased)).toBe(true);
  });

  it('other open states behave like "new" for handlers, and the reporter may add information to them', () => {
    for (const status of ['acknowledged', 'waiting_reporter', 'reopened']) {
      const c = caseIn(status);
      expect(can(ACTORS.leader, 'case.resolve', c), status).toBe(true);
      expect(can(ACTORS.wardOfficer, 'case.escalate', c), status).toBe(true);
      expect(can(ACTORS.leader, 'case.reopen', c), status).toBe(false);
      expect(can(ACTORS.resident, 'case.addInfo', c), status).toBe(true);
      expect(can(ACTORS.otherWardOfficer, 'case.view', c), status).toBe(false);
    }
    const duplicate = caseIn('duplicate');
    expect(can(ACTORS.leader, 'case.reopen', duplicate)).toBe(true);
    expect(can(ACTORS.leader, 'case.acknowledge', duplicate)).toBe(false);
    expect(can(ACTORS.resident, 'case.addInfo', duplicate)).toBe(false);
  });

  it('a case without a group (group deleted) is handled by officers and admins only', () => {
    const c: CaseResource = { ...caseIn('new'), groupId: null };
    expect(can(ACTORS.leader, 'case.handle', c)).toBe(false);
    expect(can(ACTORS.wardOfficer, 'case.handle', c)).toBe(true);
    expect(can(ACTORS.admin, 'case.handle', c)).toBe(true);
  });
});

/** Group G2, in the other ward W2 (same district): who may act on it, seen from the same actors. */
const OTHER_GROUP: GroupResource = { kind: 'group', groupId: G2, areaChain: [W2, D, P] };

// prettier-ignore
const OTHER_GROUP_MATRIX: Record<GroupAction, string> = {
  //                      resident otherGroup member leader deputy wardOff distOff otherWardOff admin
  'group.report':        '.        Y          .      .      .      .       .       .            .',
  'group.alert':         '.        .          .      .      .      .       Y       Y            Y',
  'group.manage':        '.        .          .      .      .      .       Y       Y            Y',
  'group.appointDeputy': '.        .          .      .      .      .       Y       Y            Y',
  'group.consult':       '.        .          .      .      .      .       Y       Y            Y',
  'group.answer':        '.        Y          .      .      .      .       .       .            .',
  'group.appointMediator': '.      .          .      .      .      .       Y       Y            Y',
};

describe('authorization policy: group actions', () => {
  it('covers every group action', () => {
    expect(Object.keys(GROUP_MATRIX).sort()).toEqual([...GROUP_ACTIONS].sort());
  });
  for (const action of GROUP_ACTIONS) {
    const expected = parseRow(GROUP_MATRIX[action]);
    it.each(COLUMNS.map((name, i) => [name, expected[i]] as const))(`${action} by %s -> %s`, (name, allowed) => {
      expect(can(ACTORS[name], action, GROUP)).toBe(allowed);
    });
  }

  it('covers every group action for a group in another ward', () => {
    expect(Object.keys(OTHER_GROUP_MATRIX).sort()).toEqual([...GROUP_ACTIONS].sort());
  });
  for (const action of GROUP_ACTIONS) {
    const expected = parseRow(OTHER_GROUP_MATRIX[action]);
    it.each(COLUMNS.map((name, i) => [name, expected[i]] as const))(`another ward's group: ${action} by %s -> %s`, (name, allowed) => {
      expect(can(ACTORS[name], action, OTHER_GROUP)).toBe(allowed);
    });
  }

  it('a deputy manages the group but appoints no deputies; a leader or deputy of another group does neither', () => {
    const deputyElsewhere = actor('deputy-g2', { memberships: [{ groupId: G2, role: 'leader' }] });
    expect(can(ACTORS.deputy, 'group.manage', GROUP)).toBe(true);
    expect(can(ACTORS.deputy, 'group.appointDeputy', GROUP)).toBe(false);
    expect(can(deputyElsewhere, 'group.manage', GROUP)).toBe(false);
    expect(can(deputyElsewhere, 'group.appointDeputy', GROUP)).toBe(false);
  });
});

describe('authorization policy: mediation', () => {
  const mediator = actor('mediator', { memberships: [{ groupId: G, role: 'member' }], mediatorOf: [{ groupId: G, lead: false }] });
  const teamLead = actor('team-lead', { memberships: [{ groupId: G, role: 'member' }], mediatorOf: [{ groupId: G, lead: true }] });
  const mediatorElsewhere = actor('mediator-g2', { mediatorOf: [{ groupId: G2, lead: true }] });
  const other = actor('other-party', { memberships: [{ groupId: G, role: 'member' }] });
  const request = (status: string) => ({ kind: 'mediation' as const, groupId: G, requesterId: 'resident', otherPartyId: 'other-party', status, hasTeam: true });

  it('the group\'s team handles; leaders, officers and other teams do not (it is the team\'s work)', () => {
    expect(can(mediator, 'mediation.handle', request('new'))).toBe(true);
    expect(can(teamLead, 'mediation.handle', request('new'))).toBe(true);
    expect(can(ACTORS.admin, 'mediation.handle', request('new'))).toBe(true);
    for (const who of [mediatorElsewhere, ACTORS.leader, ACTORS.deputy, ACTORS.wardOfficer, ACTORS.resident, other, ACTORS.member]) {
      expect(can(who, 'mediation.handle', request('new'))).toBe(false);
    }
  });

  it('a group without a mediation team: its leaders and deputies act as the team, nobody else', () => {
    const teamless = { ...request('new'), hasTeam: false };
    expect(can(ACTORS.leader, 'mediation.handle', teamless)).toBe(true);
    expect(can(ACTORS.deputy, 'mediation.handle', teamless)).toBe(true);
    for (const who of [ACTORS.member, ACTORS.wardOfficer, ACTORS.otherGroup, mediatorElsewhere]) expect(can(who, 'mediation.handle', teamless)).toBe(false);
  });

  it('either party may withdraw until it is concluded, and respond; nobody else', () => {
    for (const status of ['new', 'accepted', 'scheduled']) {
      expect(can(ACTORS.resident, 'mediation.withdraw', request(status))).toBe(true);
      expect(can(other, 'mediation.withdraw', request(status))).toBe(true);
    }
    for (const status of ['concluded', 'referred', 'withdrawn']) expect(can(ACTORS.resident, 'mediation.withdraw', request(status))).toBe(false);
    expect(can(other, 'mediation.respond', request('scheduled'))).toBe(true);
    for (const who of [ACTORS.member, ACTORS.leader, mediator, ACTORS.admin]) {
      expect(can(who, 'mediation.withdraw', request('new'))).toBe(false);
      expect(can(who, 'mediation.respond', request('new'))).toBe(false);
    }
    // A request whose other party is not (yet) in the bot: only the requester is a party.
    expect(can(other, 'mediation.respond', { ...request('new'), otherPartyId: null })).toBe(false);
  });

  it('the team\'s lead appoints mediators of their own group', () => {
    expect(can(teamLead, 'group.appointMediator', GROUP)).toBe(true);
    expect(can(mediator, 'group.appointMediator', GROUP)).toBe(false);
    expect(can(mediatorElsewhere, 'group.appointMediator', GROUP)).toBe(false);
  });
});
