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
}

export function createPersonalDataService(db: Db, clock: Clock, media?: MediaService) {
  return {
    async summary(personId: string): Promise<StoredSummary> {
      const person = await db.person.findUniqueOrThrow({
        where: { id: personId },
        include: { accounts: true, memberships: { where: { state: { in: ['active', 'pending'] } }, include: { group: true } } },
      });
      const accountIds = person.accounts.map((a) => a.id);
      const [reports, anonymousReports, alertAnswers, messages] = await Promise.all([
        db.case.count({ where: { reporterId: personId } }),
        db.case.count({ where: { reporterId: personId, anonymous: true } }),
        db.delivery.count({ where: { accountId: { in: accountIds }, answer: { not: null } } }),
        db.caseMessage.count({ where: { authorId: personId } }),
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
