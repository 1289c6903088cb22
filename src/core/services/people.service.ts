import type { Db, Person, ChannelAccount } from './db.js';
import type { Inbound, Channel } from '../messages.js';
import { asLocale, type Locale } from '../ports/translator.js';
import { createHotPath, sqlRunnerOf } from '../../persistence/hot-path.js';

export interface Identity {
  person: Person;
  account: ChannelAccount;
}

export function createPeopleService(db: Db, defaultLocale: Locale) {
  const hot = createHotPath(sqlRunnerOf(db));
  return {
    /**
     * Finds or creates the person behind a channel account, refreshing what the platform says of
     * them. With `lastSeenLater` the caller writes the account's last-seen time itself, in the
     * transaction that ends the turn (bot-core.ts): then an account the platform says nothing new
     * about costs one read and no write here. `known` is the account as the caller read it a
     * moment ago (processedUpdates.open): null when there is none; then it is not read again.
     */
    async resolve(
      inbound: Pick<Inbound, 'channel' | 'accountId' | 'chatId' | 'chatType' | 'displayName' | 'username'>,
      options: { lastSeenLater?: boolean; known?: Identity | null } = {},
    ): Promise<Identity> {
      const existing = options.known === undefined ? await hot.identity(inbound.channel, inbound.accountId) : options.known;
      if (existing) {
        const { person } = existing;
        const now = new Date();
        const changes: Partial<ChannelAccount> = {};
        if (inbound.chatType === 'private' && existing.account.chatId !== inbound.chatId) changes.chatId = inbound.chatId;
        if (inbound.displayName && inbound.displayName !== existing.account.displayName) changes.displayName = inbound.displayName;
        if (inbound.username && inbound.username !== existing.account.username) changes.username = inbound.username;
        // A person who wrote again is reachable again, whatever a past send said.
        if (existing.account.unreachableAt) Object.assign(changes, { unreachableAt: null, unreachableReason: null });
        if (!options.lastSeenLater || Object.keys(changes).length > 0) {
          // One prepared statement (persistence/hot-path.ts), not a Prisma update: a first message after a name change is common after an alert.
          const account = { ...existing.account, ...changes, lastSeenAt: now };
          await hot.refreshAccount(account);
          return { person, account };
        }
        return { person, account: { ...existing.account, lastSeenAt: now } };
      }
      const person = await db.person.create({
        data: {
          locale: defaultLocale,
          displayName: inbound.displayName ?? null,
          accounts: {
            create: {
              channel: inbound.channel,
              externalId: inbound.accountId,
              chatId: inbound.chatType === 'private' ? inbound.chatId : inbound.accountId,
              displayName: inbound.displayName ?? null,
              username: inbound.username ?? null,
            },
          },
        },
        include: { accounts: true },
      });
      return { person, account: person.accounts[0]! };
    },

    async setLocale(personId: string, locale: Locale): Promise<Person> {
      return db.person.update({ where: { id: personId }, data: { locale } });
    },

    /** Stores (or with null removes) the phone number the person gave; it is only shown where they share their contact. */
    async setPhone(personId: string, phone: string | null): Promise<void> {
      await db.person.update({ where: { id: personId }, data: { phone } });
    },

    async markOnboarded(personId: string): Promise<void> {
      await db.person.update({ where: { id: personId }, data: { onboardedAt: new Date() } });
    },

    localeOf(person: Person): Locale {
      return asLocale(person.locale, defaultLocale);
    },

    async findAccount(channel: Channel, externalId: string) {
      return db.channelAccount.findUnique({ where: { channel_externalId: { channel, externalId } } });
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;

/** A Vietnamese or international phone number as people type it -> "+84912345678", else undefined. */
export function normalisePhone(typed: string): string | undefined {
  const digits = typed.replace(/[\s.()-]/g, '');
  if (/^0\d{9,10}$/.test(digits)) return `+84${digits.slice(1)}`;
  if (/^\+?\d{9,15}$/.test(digits)) return digits.startsWith('+') ? digits : `+${digits}`;
  return undefined;
}
