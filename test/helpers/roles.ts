/** Test set-up of roles straight in the database (the admin CLI does the same through services). */
import type { App } from '../../src/app.js';

/** The account a platform id (Telegram user id, Zalo id, web session) belongs to. */
export async function accountOf(app: App, channel: string, externalId: string) {
  return app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId } } });
}

export async function personOf(app: App, channel: string, externalId: string) {
  const account = await accountOf(app, channel, externalId);
  return app.db.person.findUniqueOrThrow({ where: { id: account.personId } });
}

export async function makeLeader(app: App, personId: string, groupCode: string, role: 'leader' | 'deputy' = 'leader') {
  const group = await app.db.group.findUniqueOrThrow({ where: { code: groupCode } });
  await app.db.membership.upsert({
    where: { groupId_personId: { groupId: group.id, personId } },
    create: { groupId: group.id, personId, role, state: 'active' },
    update: { role, state: 'active' },
  });
}

export async function makeOfficer(app: App, personId: string, areaCode: string) {
  const area = await app.db.area.findUniqueOrThrow({ where: { code: areaCode } });
  await app.db.roleGrant.create({ data: { personId, role: 'officer', areaId: area.id } });
}
