/**
 * Grassroots mediation (tự hòa giải, Law 35/2013): a resident asks the group's mediation team to
 * help with a dispute with a neighbour, naming the other party in words or inviting them with a
 * one-time code. The team accepts or refers it (beyond grassroots mediation, e.g. violence: a case
 * for the commune/ward police), proposes a time and place that both parties answer, and records the
 * outcome (agreed, not agreed, referred) with the agreement; 30 days later both are asked whether it
 * holds. Either party may withdraw until it is concluded.
 *
 * Privacy between the parties: the other party learns nothing about the request (not even what it
 * is about) before they consent; what the requester wrote is shown to the team only. The parties
 * see the same session proposal and the same outcome, nothing the other said to the team.
 */
import { createHash } from 'node:crypto';
import type { Choice, Outbound } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import { can, type Actor, type MediationAction, type MediationResource } from '../authz/policy.js';
import { DomainError } from '../errors.js';
import { normaliseCode, randomCode } from '../codes.js';
import type { Db } from './db.js';
import type { Outbox, Tx } from './outbox.service.js';
import type { ActorService } from './actor.service.js';
import type { CaseService } from './case.service.js';
import type { Mediation } from '../../generated/prisma/client.js';

export const MAX_SUBJECT = 1000;
export const MAX_PARTY_DESCRIPTION = 300;
export const MAX_SESSION = 300;
export const MAX_AGREEMENT = 1500;
const INVITE_TTL_MS = 7 * 86_400_000;
export const FOLLOW_UP_MS = 30 * 86_400_000;

type T = (key: string, params?: Record<string, unknown>) => string;

export interface MediationRequestDraft {
  groupId: string;
  subject: string;
  /** The other party in words (they do not use the bot), or invite them with a code. */
  otherDescription?: string;
  invite?: boolean;
  draftKey?: string;
}

const hash = (code: string) => createHash('sha256').update(code).digest('hex');
const STATUS_KEYS: Record<string, string> = {
  new: 'mediation:status_new',
  accepted: 'mediation:status_accepted',
  scheduled: 'mediation:status_scheduled',
  concluded: 'mediation:status_concluded',
  referred: 'mediation:status_referred',
  withdrawn: 'mediation:status_withdrawn',
};
/** The i18n key naming a request's status. */
export const statusKey = (status: string): string => STATUS_KEYS[status] ?? 'mediation:status_new';

const OUTCOME_KEYS: Record<string, string> = {
  agreed: 'mediation:outcome_agreed',
  not_agreed: 'mediation:outcome_not_agreed',
  referred: 'mediation:outcome_referred',
};

export function createMediationService(deps: { db: Db; outbox: Outbox; actors: ActorService; cases: CaseService; clock: Clock }) {
  const { db, outbox, actors, cases, clock } = deps;
  const now = () => clock.now();

  /** The policy's actor with the mediation teams this person is on (messenger accounts only, as every role). */
  async function actorOf(personId: string): Promise<Actor> {
    const actor = await actors.actor(personId);
    const verified = (await db.channelAccount.count({ where: { personId, channel: { not: 'web' } } })) > 0;
    const teams = verified ? await db.mediator.findMany({ where: { personId }, select: { groupId: true, lead: true } }) : [];
    return { ...actor, mediatorOf: teams };
  }

  async function resourceOf(m: Mediation): Promise<MediationResource> {
    const hasTeam = (await db.mediator.count({ where: { groupId: m.groupId } })) > 0;
    return { kind: 'mediation', groupId: m.groupId, requesterId: m.requesterId, otherPartyId: m.otherPartyId, status: m.status, hasTeam };
  }

  async function authorize(personId: string, action: MediationAction, id: string): Promise<Mediation> {
    const m = await db.mediation.findUnique({ where: { id } });
    if (!m || !can(await actorOf(personId), action, await resourceOf(m))) throw new DomainError('mediation:notFound');
    return m;
  }

  /** The team of the group: its mediators; with none appointed yet, its leaders and deputies act as the team (policy). */
  async function team(groupId: string): Promise<string[]> {
    const mediators = await db.mediator.findMany({ where: { groupId }, select: { personId: true } });
    if (mediators.length) return mediators.map((m) => m.personId);
    const leaders = await db.membership.findMany({ where: { groupId, state: 'active', role: { in: ['leader', 'deputy'] } }, select: { personId: true } });
    return leaders.map((l) => l.personId);
  }

  /** The parties who may be told things: the requester, and the other party once they consented. */
  const parties = (m: Mediation): string[] => [m.requesterId, m.otherConsent ? m.otherPartyId : null].filter((p): p is string => Boolean(p));

  async function tell(tx: Tx, personIds: string[], render: (t: T) => Outbound): Promise<Set<string>> {
    return outbox.enqueue(tx, 'mediation', await outbox.recipients(tx, personIds), (t) => render(t));
  }

  /** A change and its messages in one transaction; the workers are woken afterwards. */
  async function change<R>(fn: (tx: Tx, queued: Set<string>) => Promise<R>): Promise<R> {
    const queued = new Set<string>();
    const result = await db.$transaction((tx) => fn(tx, queued), { timeout: 30_000 });
    outbox.notify(queued);
    return result;
  }
  const merge = (into: Set<string>, more: Set<string>) => more.forEach((c) => into.add(c));

  async function uniqueRef(tx: Tx): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const ref = `HG-${randomCode(attempt < 10 ? 4 : 5)}`;
      if (!(await tx.mediation.findUnique({ where: { ref }, select: { id: true } }))) return ref;
    }
    throw new Error('could not find a free mediation reference');
  }

  const teamButtons = (m: Mediation, t: T): Choice[][] => {
    const rows: Choice[][] = [];
    if (m.status === 'new') rows.push([{ id: `m:${m.id}:accept`, label: t('mediation:accept') }], [{ id: `m:${m.id}:refer`, label: t('mediation:refer') }]);
    if (m.status === 'accepted' || m.status === 'scheduled') {
      rows.push([{ id: `m:${m.id}:propose`, label: t('mediation:propose') }], [{ id: `m:${m.id}:conclude`, label: t('mediation:conclude') }], [{ id: `m:${m.id}:refer`, label: t('mediation:refer') }]);
    }
    return rows;
  };

  /** What the team reads: everything the requester wrote, and what each party answered. */
  function teamText(m: Mediation, t: T, groupName: string, requesterName: string | null): string {
    const lines = [
      t('mediation:teamTitle', { ref: m.ref, group: groupName }),
      t('mediation:teamRequester', { name: requesterName ?? t('mediation:someone') }),
      t('mediation:teamSubject', { text: m.subject }),
      m.otherDescription ? t('mediation:teamOtherWords', { text: m.otherDescription }) : t(m.otherConsent ? 'mediation:teamOtherConsented' : m.otherConsent === false ? 'mediation:teamOtherDeclined' : 'mediation:teamOtherInvited'),
      t('mediation:statusLine', { status: t(STATUS_KEYS[m.status] ?? 'mediation:status_new') }),
    ];
    if (m.sessionAt) lines.push(t('mediation:sessionLine', { session: m.sessionAt }), t('mediation:answersLine', { requester: answerWord(m.requesterAnswer, t), other: answerWord(m.otherAnswer, t) }));
    if (m.outcome) lines.push(t('mediation:outcomeLine', { outcome: t(OUTCOME_KEYS[m.outcome] ?? 'mediation:outcome_agreed') }));
    if (m.agreement) lines.push(t('mediation:agreementLine', { text: m.agreement }));
    if (m.requesterHolds !== null || m.otherHolds !== null) lines.push(t('mediation:holdsLine', { requester: holdsWord(m.requesterHolds, t), other: holdsWord(m.otherHolds, t) }));
    return lines.join('\n');
  }
  const answerWord = (a: string | null, t: T) => t(a === 'yes' ? 'mediation:answerYes' : a === 'no' ? 'mediation:answerNo' : 'mediation:answerNone');
  const holdsWord = (h: boolean | null, t: T) => t(h === true ? 'mediation:holdsStill' : h === false ? 'mediation:holdsBroken' : 'mediation:answerNone');

  /** What a party reads: the requester sees their own words; the other party never sees them. */
  function partyText(m: Mediation, t: T, asRequester: boolean): string {
    const lines = [t('mediation:partyTitle', { ref: m.ref })];
    if (asRequester) lines.push(t('mediation:teamSubject', { text: m.subject }));
    lines.push(t('mediation:statusLine', { status: t(STATUS_KEYS[m.status] ?? 'mediation:status_new') }));
    if (m.sessionAt) lines.push(t('mediation:sessionLine', { session: m.sessionAt }));
    if (m.outcome) lines.push(t('mediation:outcomeLine', { outcome: t(OUTCOME_KEYS[m.outcome] ?? 'mediation:outcome_agreed') }));
    if (m.agreement) lines.push(t('mediation:agreementLine', { text: m.agreement }));
    return lines.join('\n');
  }

  async function groupName(groupId: string): Promise<string> {
    return (await db.group.findUnique({ where: { id: groupId }, select: { name: true } }))?.name ?? '';
  }
  async function nameOf(personId: string | null): Promise<string | null> {
    if (!personId) return null;
    return (await db.person.findUnique({ where: { id: personId }, select: { displayName: true } }))?.displayName ?? null;
  }

  /** Tells the team the request's current state, with their buttons. */
  async function tellTeam(tx: Tx, m: Mediation, headKey: string): Promise<Set<string>> {
    const [g, requester, members] = await Promise.all([groupName(m.groupId), nameOf(m.requesterId), team(m.groupId)]);
    return tell(tx, members, (t) => ({ text: `${t(headKey, { ref: m.ref })}\n\n${teamText(m, t, g, requester)}`, choices: teamButtons(m, t) }));
  }

  const service = {
    actorOf,

    /** Refuses (as "not found") anyone who is not on the request's team. */
    async assertTeam(personId: string, id: string): Promise<void> {
      await authorize(personId, 'mediation.handle', id);
    },

    /** Groups where this person may ask for mediation (where they are an active member). */
    async groupsFor(personId: string) {
      return db.membership.findMany({ where: { personId, state: 'active' }, include: { group: true }, orderBy: { createdAt: 'asc' } });
    },

    /** Files a request; with `invite`, returns the one-time code the requester hands to the other party. */
    async request(requesterId: string, draft: MediationRequestDraft): Promise<{ mediation: Mediation; code?: string; already: boolean }> {
      if (draft.draftKey) {
        const existing = await db.mediation.findUnique({ where: { draftKey: draft.draftKey } });
        if (existing) return { mediation: existing, already: true };
      }
      const subject = draft.subject.trim();
      if (!subject) throw new DomainError('mediation:noSubject');
      if (subject.length > MAX_SUBJECT) throw new DomainError('common:tooLong', { length: subject.length, max: MAX_SUBJECT });
      const description = draft.otherDescription?.trim() ?? '';
      if (!draft.invite && description.replace(/[^\p{L}]/gu, '').length < 3) throw new DomainError('mediation:noOtherParty');
      const actor = await actorOf(requesterId);
      if (!can(actor, 'group.report', { kind: 'group', groupId: draft.groupId, areaChain: [] })) throw new DomainError('mediation:notMember');
      const code = draft.invite ? randomCode(8) : undefined;
      const mediation = await change(async (tx, queued) => {
        const m = await tx.mediation.create({
          data: {
            ref: await uniqueRef(tx),
            groupId: draft.groupId,
            requesterId,
            subject,
            otherDescription: draft.invite ? null : description,
            inviteCodeHash: code ? hash(code) : null,
            inviteExpiresAt: code ? new Date(now().getTime() + INVITE_TTL_MS) : null,
            draftKey: draft.draftKey ?? null,
            createdAt: now(),
          },
        });
        merge(queued, await tellTeam(tx, m, 'mediation:teamNew'));
        await tx.auditLog.create({ data: { actorId: requesterId, action: 'mediation.requested', subject: `mediation:${m.id}`, createdAt: now() } });
        return m;
      });
      return { mediation, code, already: false };
    },

    /** The other party types the code: they become the other party, and are asked to consent (told nothing else). */
    async redeemInvite(personId: string, typed: string): Promise<Mediation> {
      const code = normaliseCode(typed);
      const m = code ? await db.mediation.findUnique({ where: { inviteCodeHash: hash(code) } }) : null;
      if (!m || !m.inviteExpiresAt || m.inviteExpiresAt <= now() || !['new', 'accepted', 'scheduled'].includes(m.status)) throw new DomainError('mediation:codeInvalid');
      if (m.requesterId === personId) throw new DomainError('mediation:ownCode');
      const claimed = await db.mediation.updateMany({ where: { id: m.id, inviteCodeHash: m.inviteCodeHash }, data: { otherPartyId: personId, inviteCodeHash: null, inviteExpiresAt: null } });
      if (claimed.count !== 1) throw new DomainError('mediation:codeInvalid');
      return db.mediation.findUniqueOrThrow({ where: { id: m.id } });
    },

    /** The invited party agrees (or not) to take part; the team is told either way. */
    async consent(personId: string, id: string, yes: boolean): Promise<Mediation> {
      const m = await authorize(personId, 'mediation.respond', id);
      if (m.otherPartyId !== personId) throw new DomainError('mediation:notFound');
      if (m.otherConsent !== null) throw new DomainError('mediation:alreadyAnswered');
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data: { otherConsent: yes } });
        merge(queued, await tellTeam(tx, updated, yes ? 'mediation:teamConsented' : 'mediation:teamDeclined'));
        if (yes && updated.requesterId) merge(queued, await tell(tx, [updated.requesterId], (t) => ({ text: t('mediation:toldConsented', { ref: updated.ref }) })));
        return updated;
      });
    },

    async accept(mediatorId: string, id: string): Promise<Mediation> {
      const m = await authorize(mediatorId, 'mediation.handle', id);
      if (m.status !== 'new') throw new DomainError('mediation:notNow');
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data: { status: 'accepted', mediatorId } });
        merge(queued, await tell(tx, parties(updated), (t) => ({ text: t('mediation:toldAccepted', { ref: updated.ref }) })));
        await tx.auditLog.create({ data: { actorId: mediatorId, action: 'mediation.accepted', subject: `mediation:${id}`, createdAt: now() } });
        return updated;
      });
    },

    /**
     * Beyond grassroots mediation (violence, a crime): a case for the commune/ward police, filed for
     * the requester with what they wrote and the team's reason; the request ends as "referred".
     */
    async refer(mediatorId: string, id: string, reason: string): Promise<{ mediation: Mediation; caseRef: string | null }> {
      const m = await authorize(mediatorId, 'mediation.handle', id);
      if (!['new', 'accepted', 'scheduled'].includes(m.status)) throw new DomainError('mediation:notNow');
      let caseRef: string | null = null;
      let caseId: string | null = null;
      if (m.requesterId) {
        const filed = await cases.create(m.requesterId, {
          groupId: m.groupId,
          category: 'security',
          urgent: false,
          description: `${m.ref}: ${reason}\n${m.subject}`.slice(0, 2000),
          anonymous: false,
        });
        caseRef = filed.case.ref;
        caseId = filed.case.id;
      }
      const updated = await change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data: { status: 'referred', outcome: 'referred', mediatorId, concludedAt: now(), referredCaseId: caseId } });
        if (updated.requesterId) merge(queued, await tell(tx, [updated.requesterId], (t) => ({ text: t('mediation:toldReferred', { ref: updated.ref, caseRef: caseRef ?? '' }) })));
        if (updated.otherConsent && updated.otherPartyId) merge(queued, await tell(tx, [updated.otherPartyId], (t) => ({ text: t('mediation:toldClosed', { ref: updated.ref }) })));
        await tx.auditLog.create({ data: { actorId: mediatorId, action: 'mediation.referred', subject: `mediation:${id}`, createdAt: now() } });
        return updated;
      });
      return { mediation: updated, caseRef };
    },

    /** A time and place for the session: both parties are asked, with Yes / No. */
    async propose(mediatorId: string, id: string, session: string): Promise<Mediation> {
      const m = await authorize(mediatorId, 'mediation.handle', id);
      if (m.status !== 'accepted' && m.status !== 'scheduled') throw new DomainError('mediation:notNow');
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data: { status: 'scheduled', sessionAt: session, requesterAnswer: null, otherAnswer: null } });
        merge(
          queued,
          await tell(tx, parties(updated), (t) => ({
            text: t('mediation:toldSession', { ref: updated.ref, session }),
            choices: [[{ id: `m:${id}:yes`, label: t('mediation:sessionYes') }], [{ id: `m:${id}:no`, label: t('mediation:sessionNo') }]],
          })),
        );
        return updated;
      });
    },

    /** A party answers the proposed session; the team is told. */
    async answerSession(personId: string, id: string, yes: boolean): Promise<Mediation> {
      const m = await authorize(personId, 'mediation.respond', id);
      if (m.status !== 'scheduled') throw new DomainError('mediation:notNow');
      const data = m.requesterId === personId ? { requesterAnswer: yes ? 'yes' : 'no' } : { otherAnswer: yes ? 'yes' : 'no' };
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data });
        merge(queued, await tellTeam(tx, updated, 'mediation:teamSessionAnswer'));
        return updated;
      });
    },

    /** The outcome, with the agreement if there is one; both parties are told, and asked again in 30 days. */
    async conclude(mediatorId: string, id: string, outcome: 'agreed' | 'not_agreed', agreement?: string): Promise<Mediation> {
      const m = await authorize(mediatorId, 'mediation.handle', id);
      if (m.status !== 'accepted' && m.status !== 'scheduled') throw new DomainError('mediation:notNow');
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({
          where: { id },
          data: { status: 'concluded', outcome, agreement: agreement ?? null, concludedAt: now(), followUpAt: outcome === 'agreed' ? new Date(now().getTime() + FOLLOW_UP_MS) : null },
        });
        merge(queued, await tell(tx, parties(updated), (t) => ({ text: t('mediation:toldConcluded', { ref: updated.ref }) + '\n' + partyText(updated, t, false) })));
        await tx.auditLog.create({ data: { actorId: mediatorId, action: 'mediation.concluded', subject: `mediation:${id}`, detail: JSON.stringify({ outcome }), createdAt: now() } });
        return updated;
      });
    },

    /** Either party ends it; the team is told, and the other party only that it ended. */
    async withdraw(personId: string, id: string): Promise<Mediation> {
      const m = await authorize(personId, 'mediation.withdraw', id);
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data: { status: 'withdrawn', concludedAt: now(), inviteCodeHash: null } });
        merge(queued, await tellTeam(tx, updated, 'mediation:teamWithdrawn'));
        const others = parties(updated).filter((p) => p !== personId);
        merge(queued, await tell(tx, others, (t) => ({ text: t('mediation:toldClosed', { ref: updated.ref }) })));
        return m.status === updated.status ? m : updated;
      });
    },

    /** 30 days after an agreement: both parties are asked whether it holds (once). */
    async followUpDue(): Promise<number> {
      const due = await db.mediation.findMany({ where: { followUpAt: { lte: now() } }, take: 100 });
      let asked = 0;
      for (const m of due) {
        const sent = await change(async (tx, queued) => {
          const claimed = await tx.mediation.updateMany({ where: { id: m.id, followUpAt: { not: null } }, data: { followUpAt: null } });
          if (!claimed.count) return false;
          merge(
            queued,
            await tell(tx, parties(m), (t) => ({
              text: t('mediation:askHolds', { ref: m.ref, agreement: m.agreement ?? t('mediation:noAgreementText') }),
              choices: [[{ id: `m:${m.id}:holds`, label: t('mediation:holdsYes') }], [{ id: `m:${m.id}:broken`, label: t('mediation:holdsNo') }]],
            })),
          );
          return true;
        });
        if (sent) asked += 1;
      }
      return asked;
    },

    async answerHolds(personId: string, id: string, holds: boolean): Promise<Mediation> {
      const m = await authorize(personId, 'mediation.respond', id);
      if (m.status !== 'concluded') throw new DomainError('mediation:notNow');
      const data = m.requesterId === personId ? { requesterHolds: holds } : { otherHolds: holds };
      return change(async (tx, queued) => {
        const updated = await tx.mediation.update({ where: { id }, data });
        merge(queued, await tellTeam(tx, updated, 'mediation:teamHolds'));
        return updated;
      });
    },

    /** Requests this person is a party to, and the ones of the teams they are on, newest first. */
    async listFor(personId: string): Promise<Mediation[]> {
      const actor = await actorOf(personId);
      const led = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      const teamless = led.length ? (await db.group.findMany({ where: { id: { in: led }, mediators: { none: {} } }, select: { id: true } })).map((g) => g.id) : [];
      const groups = [...(actor.mediatorOf ?? []).map((m) => m.groupId), ...teamless];
      return db.mediation.findMany({
        where: { OR: [{ requesterId: personId }, { otherPartyId: personId }, { groupId: { in: groups } }] },
        orderBy: { createdAt: 'desc' },
        take: 10,
      });
    },

    /** The request as this person may see it, with the buttons they may use. */
    async view(personId: string, id: string, t: T): Promise<Outbound> {
      const m = await db.mediation.findUnique({ where: { id } });
      if (!m) throw new DomainError('mediation:notFound');
      const actor = await actorOf(personId);
      const resource = await resourceOf(m);
      if (can(actor, 'mediation.handle', resource)) {
        return { text: teamText(m, t, await groupName(m.groupId), await nameOf(m.requesterId)), choices: teamButtons(m, t) };
      }
      if (!can(actor, 'mediation.respond', resource)) throw new DomainError('mediation:notFound');
      const asRequester = m.requesterId === personId;
      if (!asRequester && m.otherConsent === null) return service.invitation(m, t);
      const rows: Choice[][] = [];
      if (m.status === 'scheduled') rows.push([{ id: `m:${m.id}:yes`, label: t('mediation:sessionYes') }], [{ id: `m:${m.id}:no`, label: t('mediation:sessionNo') }]);
      if (can(actor, 'mediation.withdraw', resource)) rows.push([{ id: `m:${m.id}:withdraw`, label: t('mediation:withdraw') }]);
      return { text: partyText(m, t, asRequester), choices: rows };
    },

    /** What the invited party reads before consenting: who asks them (the team), nothing about the request. */
    async invitation(m: Mediation, t: T): Promise<Outbound> {
      return {
        text: t('mediation:invitation', { ref: m.ref, group: await groupName(m.groupId) }),
        choices: [[{ id: `m:${m.id}:consent`, label: t('mediation:consentYes') }], [{ id: `m:${m.id}:decline`, label: t('mediation:consentNo') }]],
      };
    },

    /** Appoints (or removes) a member of a group's mediation team; `lead` for the team's leader. */
    async appoint(byId: string, groupId: string, personId: string, options: { lead?: boolean; remove?: boolean } = {}): Promise<void> {
      const group = await db.group.findUnique({ where: { id: groupId } });
      if (!group) throw new DomainError('mediation:notFound');
      const actor = await actorOf(byId);
      if (!can(actor, 'group.appointMediator', { kind: 'group', groupId, areaChain: await actors.areaChain(group.areaId) })) throw new DomainError('mediation:notAllowed');
      const member = await db.membership.findUnique({ where: { groupId_personId: { groupId, personId } } });
      if (!member || member.state !== 'active') throw new DomainError('mediation:notMember');
      if (options.remove) await db.mediator.deleteMany({ where: { groupId, personId } });
      else await db.mediator.upsert({ where: { groupId_personId: { groupId, personId } }, create: { groupId, personId, lead: options.lead ?? false, createdAt: now() }, update: { lead: options.lead ?? false } });
      await db.auditLog.create({ data: { actorId: byId, action: options.remove ? 'mediator.removed' : 'mediator.appointed', subject: `person:${personId}`, detail: JSON.stringify({ groupId, lead: options.lead ?? false }), createdAt: now() } });
    },

    /** For a leader's member page: may `byId` appoint mediators in that member's group, and is the member one? */
    async mediatorOfMembership(byId: string, membershipId: string): Promise<{ canAppoint: boolean; mediator: boolean }> {
      const m = await db.membership.findUnique({ where: { id: membershipId }, include: { group: true } });
      if (!m) return { canAppoint: false, mediator: false };
      const actor = await actorOf(byId);
      const canAppoint = can(actor, 'group.appointMediator', { kind: 'group', groupId: m.groupId, areaChain: await actors.areaChain(m.group.areaId) });
      const mediator = Boolean(await db.mediator.findUnique({ where: { groupId_personId: { groupId: m.groupId, personId: m.personId } } }));
      return { canAppoint, mediator };
    },

    /** Appoints (or removes) the member of this membership as a mediator of its group: granted like deputies. */
    async setMediatorByMembership(byId: string, membershipId: string, on: boolean): Promise<void> {
      const m = await db.membership.findUnique({ where: { id: membershipId } });
      if (!m) throw new DomainError('mediation:notMember');
      await service.appoint(byId, m.groupId, m.personId, { remove: !on });
    },

    /** On a mediation team somewhere (or acting as one: a leader or deputy of a group without a team), or an admin. */
    async isTeamAnywhere(personId: string): Promise<boolean> {
      const actor = await actorOf(personId);
      if (actor.admin || (actor.mediatorOf ?? []).length) return true;
      const led = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      return led.length > 0 && (await db.group.count({ where: { id: { in: led }, mediators: { none: {} } } })) > 0;
    },

    /**
     * The requests of the teams this person is on (the console's list), newest first: each one
     * checked against the policy, so a party never finds their own dispute here.
     */
    async teamList(personId: string, take = 100): Promise<Array<Mediation & { groupName: string }>> {
      const actor = await actorOf(personId);
      const led = actor.memberships.filter((m) => m.role !== 'member').map((m) => m.groupId);
      const teamless = led.length ? (await db.group.findMany({ where: { id: { in: led }, mediators: { none: {} } }, select: { id: true } })).map((g) => g.id) : [];
      const groups = [...(actor.mediatorOf ?? []).map((m) => m.groupId), ...teamless];
      if (!actor.admin && !groups.length) return [];
      const rows = await db.mediation.findMany({
        where: actor.admin ? {} : { groupId: { in: groups } },
        include: { group: { select: { name: true } } },
        orderBy: { createdAt: 'desc' },
        take,
      });
      const out: Array<Mediation & { groupName: string }> = [];
      for (const { group, ...m } of rows) if (can(actor, 'mediation.handle', await resourceOf(m))) out.push({ ...m, groupName: group.name });
      return out;
    },

    /** What the team reads of one request (refused as "not found" to anyone else, parties included). */
    async teamDetail(personId: string, id: string): Promise<{ mediation: Mediation; groupName: string; requesterName: string | null; otherName: string | null }> {
      const m = await authorize(personId, 'mediation.handle', id);
      const [g, requesterName, otherName] = await Promise.all([groupName(m.groupId), nameOf(m.requesterId), m.otherConsent ? nameOf(m.otherPartyId) : Promise.resolve(null)]);
      return { mediation: m, groupName: g, requesterName, otherName };
    },

    /** Requests referred to the police of this person's areas: that they were referred, when, and the case; nothing the parties said. */
    async referredList(personId: string, take = 100): Promise<Array<{ id: string; ref: string; groupName: string; concludedAt: Date | null; caseId: string | null; caseRef: string | null }>> {
      const actor = await actorOf(personId);
      const areaIds = actor.officerAreaIds.length ? await actors.descendants(actor.officerAreaIds) : [];
      if (!actor.admin && !areaIds.length) return [];
      const rows = await db.mediation.findMany({
        where: { status: 'referred', ...(actor.admin ? {} : { group: { areaId: { in: areaIds } } }) },
        include: { group: { select: { name: true, areaId: true } } },
        orderBy: { concludedAt: 'desc' },
        take,
      });
      const out = [];
      for (const { group, ...m } of rows) {
        const resource = { ...(await resourceOf(m)), areaChain: await actors.areaChain(group.areaId) };
        if (!can(actor, 'mediation.oversee', resource)) continue;
        const c = m.referredCaseId ? await db.case.findUnique({ where: { id: m.referredCaseId }, select: { id: true, ref: true } }) : null;
        out.push({ id: m.id, ref: m.ref, groupName: group.name, concludedAt: m.concludedAt, caseId: c?.id ?? null, caseRef: c?.ref ?? null });
      }
      return out;
    },

    /** Requests of these groups concluded (agreed, not agreed or referred) in [from, to): the monthly account. */
    concludedBetween(groupIds: string[], from: Date, to: Date): Promise<number> {
      return db.mediation.count({ where: { groupId: { in: groupIds }, status: { in: ['concluded', 'referred'] }, concludedAt: { gte: from, lt: to } } });
    },
  };
  return service;
}

export type MediationService = ReturnType<typeof createMediationService>;
