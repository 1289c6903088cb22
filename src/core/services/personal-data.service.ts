/**
 * A person's own data: what is stored about them, and erasing it (Vietnam's personal data
 * protection rules give them that right). Erasing keeps their cases for the handlers, with
 * the reporter shown as "deleted person" and no identifier left anywhere.
 */
import type { Db } from './db.js';
import type { Clock } from '../ports/clock.js';
import type { MediaService } from './media.service.js';

export interface StoredSummary {
  displayName: string | null;
  phone: string | null;
  locale: string;
  since: Date;
  accounts: { channel: string; username: string | null }[];
  groups: { name: string; state: string; role: string; shareContact: boolean }[];
  reports: number;
  anonymousReports: number;
  alertAnswers: number;
  messages: number;
  /** Answers to consultations: the question and whether it is still open (the answer may change). */
  pollAnswers: { question: string; open: boolean }[];
  /** Opinions sent to listening forums: the topic and whether they were signed. */
  forumOpinions: { topic: string; anonymous: boolean }[];
  /** Mediation requests they made or were invited to (and accepted). */
  mediations: { ref: string; status: string; asRequester: boolean }[];
}

/** How many items of each kind the summary names one by one (the count says the rest). */
export const SUMMARY_ITEMS = 20;

export function createPersonalDataService(db: Db, clock: Clock, media?: MediaService) {
  return {
    async summary(personId: string): Promise<StoredSummary> {
      const person = await db.person.findUniqueOrThrow({
        where: { id: personId },
        include: { accounts: true, memberships: { where: { state: { in: ['active', 'pending'] } }, include: { group: true } } },
      });
      const accountIds = person.accounts.map((a) => a.id);
      const at = clock.now();
      const [reports, anonymousReports, alertAnswers, messages, pollAnswers, forumOpinions, mediations] = await Promise.all([
        db.case.count({ where: { reporterId: personId } }),
        db.case.count({ where: { reporterId: personId, anonymous: true } }),
        db.delivery.count({ where: { accountId: { in: accountIds }, answer: { not: null } } }),
        db.caseMessage.count({ where: { authorId: personId } }),
        db.pollAnswer.findMany({ where: { personId }, include: { poll: { select: { question: true, closesAt: true, closedAt: true } } }, orderBy: { createdAt: 'desc' } }),
        db.forumOpinion.findMany({ where: { personId }, include: { forum: { select: { topic: true } } }, orderBy: { createdAt: 'desc' } }),
        // The other party counts once they took part (consented); before, the request is not theirs to read.
        db.mediation.findMany({ where: { OR: [{ requesterId: personId }, { otherPartyId: personId, otherConsent: true }] }, orderBy: { createdAt: 'desc' } }),
      ]);
      return {
        displayName: person.displayName,
        phone: person.phone,
        locale: person.locale,
        since: person.createdAt,
        accounts: person.accounts.map((a) => ({ channel: a.channel, username: a.username })),
        groups: person.memberships.map((m) => ({ name: m.group.name, state: m.state, role: m.role, shareContact: m.shareContact })),
        reports,
        anonymousReports,
        alertAnswers,
        messages,
        pollAnswers: pollAnswers.map((a) => ({ question: a.poll.question, open: !a.poll.closedAt && a.poll.closesAt > at })),
        forumOpinions: forumOpinions.map((o) => ({ topic: o.forum.topic, anonymous: o.anonymous })),
        mediations: mediations.map((m) => ({ ref: m.ref, status: m.status, asRequester: m.requesterId === personId })),
      };
    },

    /**
     * Erases name, phone, channel accounts, memberships and everything addressed to them.
     * `deletedLabel` replaces the person's name where others' copies of messages named them.
     */
    async erase(personId: string, deletedLabel: string): Promise<void> {
      const person = await db.person.findUniqueOrThrow({ where: { id: personId }, include: { accounts: true } });
      const accountIds = person.accounts.map((a) => a.id);
      const webSessions = person.accounts.filter((a) => a.channel === 'web').map((a) => a.externalId);
      // Photos: those no open case needs are deleted; the rest (already without metadata) lose
      // their tie to the person, and every link handed out so far stops working.
      await media?.eraseOwnedBy(personId);
      const names = [person.displayName, ...person.accounts.map((a) => a.displayName)].filter((n): n is string => Boolean(n && n.trim().length >= 2));
      await db.$transaction(async (tx) => {
        await tx.delivery.deleteMany({ where: { accountId: { in: accountIds } } });
        await tx.webMessage.deleteMany({ where: { session: { in: webSessions } } });
        // Copies sent to others (a named report, a join request) named the person: replace the name.
        for (const name of new Set(names)) {
          const inJson = JSON.stringify(name).slice(1, -1);
          const label = JSON.stringify(deletedLabel).slice(1, -1);
          for (const row of await tx.delivery.findMany({ where: { payload: { contains: inJson } }, select: { id: true, payload: true } })) {
            await tx.delivery.update({ where: { id: row.id }, data: { payload: row.payload.split(inJson).join(label) } });
          }
          for (const row of await tx.webMessage.findMany({ where: { payload: { contains: inJson } }, select: { seq: true, payload: true } })) {
            await tx.webMessage.update({ where: { seq: row.seq }, data: { payload: row.payload.split(inJson).join(label) } });
          }
        }
        // Mediation: a request still open ends as withdrawn (nobody is left to meet: the team sees it
        // so in their list); a concluded one stays with the team, unlinked like a report.
        const open = { in: ['new', 'accepted', 'scheduled'] };
        await tx.mediation.updateMany({ where: { status: open, OR: [{ requesterId: personId }, { otherPartyId: personId }] }, data: { status: 'withdrawn', concludedAt: clock.now(), inviteCodeHash: null, inviteExpiresAt: null } });
        // Poll answers and forum opinions keep counting, from nobody (the relation sets the person to null).
        await tx.case.updateMany({ where: { reporterId: personId }, data: { reporterId: null } });
        await tx.case.updateMany({ where: { assigneeId: personId }, data: { assigneeId: null } });
        // The audit log keeps what happened and when, not to whom: subjects naming the person or
        // one of their accounts (roles, linking, failed link codes) lose that name.
        await tx.auditLog.updateMany({
          where: { subject: { in: [`person:${personId}`, ...accountIds.map((id) => `account:${id}`)] } },
          data: { subject: null },
        });
        // Deleting the person removes accounts, conversations, memberships, grants and link codes
        // (cascades); cases, messages and events keep no link to them (set null).
        await tx.person.delete({ where: { id: personId } });
        await tx.auditLog.create({ data: { action: 'person.erased', createdAt: clock.now() } });
      });
    },
  };
}

export type PersonalDataService = ReturnType<typeof createPersonalDataService>;
