/** Test set-up of roles straight in the database (the admin CLI does the same through services). */
import { randomInt } from 'node:crypto';
import type { App } from '../../src/app.js';

/** The account a platform id (Telegram user id, Zalo id, web session) belongs to. */
export async function accountOf(app: App, channel: string, externalId: string) {
  return app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId } } });
}

export async function personOf(app: App, channel: string, externalId: string) {
  const account = await accountOf(app, channel, externalId);
  return app.db.person.findUniqueOrThrow({ where: { id: account.personId } });
}

/**
 * Roles act only for a person with a Telegram or Zalo account (a web chat session alone is a
 * resident, see actor.service.ts). A web-only person given a role here also gets a Telegram
 * account, as if they had linked one with /link. It was "seen" long ago, so messages still go
 * to the web chat they use. Pass `{ messenger: false }` to keep the person web-only.
 */
export async function ensureMessengerAccount(app: App, personId: string): Promise<void> {
  const messengers = await app.db.channelAccount.count({ where: { personId, channel: { not: 'web' } } });
  if (messengers > 0) return;
  const userId = String(7_000_000_000 + randomInt(1_000_000_000));
  await app.db.channelAccount.create({ data: { personId, channel: 'telegram', externalId: userId, chatId: userId, lastSeenAt: new Date(0) } });
}

export interface RoleOptions {
  /** Attach a Telegram account to a web-only person so the role acts (default true). */
  messenger?: boolean;
}

export async function makeLeader(app: App, personId: string, groupCode: string, role: 'leader' | 'deputy' = 'leader', options: RoleOptions = {}) {
  if (options.messenger !== false) await ensureMessengerAccount(app, personId);
  const group = await app.db.group.findUniqueOrThrow({ where: { code: groupCode } });
  await app.db.membership.upsert({
    where: { groupId_personId: { groupId: group.id, personId } },
    create: { groupId: group.id, personId, role, state: 'active' },
    update: { role, state: 'active' },
  });
}

export async function makeOfficer(app: App, personId: string, areaCode: string, options: RoleOptions = {}) {
  if (options.messenger !== false) await ensureMessengerAccount(app, personId);
  const area = await app.db.area.findUniqueOrThrow({ where: { code: areaCode } });
  await app.db.roleGrant.create({ data: { personId, role: 'officer', areaId: area.id } });
}
