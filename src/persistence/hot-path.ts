/**
 * The statements one ordinary update runs, on the prepared-statement runner (sql-runner.ts)
 * instead of Prisma: a Prisma query costs about 0.8 ms of CPU, a prepared statement about
 * 0.01 ms on SQLite and one round trip on PostgreSQL. One update reads what it needs (the
 * "handled" mark, the account and its person, the conversation, the actor) and writes once: the
 * "handled" mark, the conversation state, the account's last-seen time and the replies, in one
 * transaction (docs/design-notes.md, "Cost of one update").
 *
 * Nothing here is cached between updates: every read goes to the database, so several instances
 * serving the same database stay correct. The SQL is written once for both engines (`?`
 * placeholders, quoted identifiers, ON CONFLICT), and rows come back in Prisma's shapes.
 */
import type { Person, ChannelAccount } from '../generated/prisma/client.js';
import type { SqlRunner, Statement } from './sql-runner.js';

const runners = new WeakMap<object, SqlRunner>();

/** Remembers the runner of a database opened by openDatabase (database.ts). */
export function registerSqlRunner(db: object, sql: SqlRunner): void {
  runners.set(db, sql);
}

/** The prepared-statement runner of a database opened by openDatabase. */
export function sqlRunnerOf(db: object): SqlRunner {
  const sql = runners.get(db);
  if (!sql) throw new Error('the database was not opened by openDatabase (src/persistence/database.ts): its statement runner is missing');
  return sql;
}

/** A conversation row as stored (JSON columns as text). */
export interface ConversationRow {
  flow: string | null;
  step: string | null;
  data: string;
  choices: string;
  suspended: string | null;
}

export interface ConversationWrite {
  flow: string | null;
  step: string | null;
  data: string;
  choices: string;
  suspended: string | null;
}

/** One outbox row of a direct reply (see insertDeliveries in outbox.service.ts for the bulk path). */
export interface DeliveryRow {
  id: string;
  kind: string;
  channel: string;
  accountId: string | null;
  chatId: string;
  payload: string;
  /** The log id of the update (observability/trace.ts). */
  traceId: string | null;
}

const SQL = {
  seen: 'SELECT 1 AS "hit" FROM "ProcessedUpdate" WHERE "id" = ?',
  account: 'SELECT * FROM "ChannelAccount" WHERE "channel" = ? AND "externalId" = ?',
  person: 'SELECT * FROM "Person" WHERE "id" = ?',
  conversation: 'SELECT "flow", "step", "data", "choices", "suspended" FROM "Conversation" WHERE "accountId" = ?',
  markHandled: 'INSERT INTO "ProcessedUpdate" ("id", "createdAt") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
  saveConversation: `INSERT INTO "Conversation" ("accountId", "flow", "step", "data", "choices", "suspended", "updatedAt")
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT ("accountId") DO UPDATE SET "flow" = excluded."flow", "step" = excluded."step", "data" = excluded."data",
      "choices" = excluded."choices", "suspended" = excluded."suspended", "updatedAt" = excluded."updatedAt"`,
  lastSeen: 'UPDATE "ChannelAccount" SET "lastSeenAt" = ? WHERE "id" = ?',
  insertDelivery: `INSERT INTO "Delivery" ("id", "kind", "channel", "accountId", "chatId", "payload", "traceId", "status", "attempts", "nextAttemptAt", "createdAt")
    VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
  /**
   * What the authorization policy needs about a person, in one statement: active memberships,
   * standing role grants, and how many messenger (non-web) accounts they have.
   */
  /** Choices offered by notifications, one statement per account (PostgreSQL; SQLite takes them all at once). */
  offerChoicesPg: `INSERT INTO "Conversation" ("accountId", "choices", "updatedAt")
    SELECT ?::text, ?::text, ?::timestamp(3) WHERE EXISTS (SELECT 1 FROM "ChannelAccount" a WHERE a."id" = ?)
    ON CONFLICT ("accountId") DO UPDATE SET "choices" = excluded."choices", "updatedAt" = excluded."updatedAt"
    WHERE "Conversation"."flow" IS NULL`,
  offerChoicesSqlite: `INSERT INTO "Conversation" ("accountId", "choices", "updatedAt")
    SELECT r.value ->> 0, r.value ->> 1, ? FROM json_each(?) AS r
    WHERE EXISTS (SELECT 1 FROM "ChannelAccount" a WHERE a."id" = r.value ->> 0)
    ON CONFLICT ("accountId") DO UPDATE SET "choices" = excluded."choices", "updatedAt" = excluded."updatedAt"
    WHERE "Conversation"."flow" IS NULL`,
  actor: `SELECT 'm' AS "kind", "groupId" AS "ref", "role" FROM "Membership" WHERE "personId" = ? AND "state" = 'active'
    UNION ALL SELECT 'g', "areaId", "role" FROM "RoleGrant" WHERE "personId" = ? AND "revokedAt" IS NULL
    UNION ALL SELECT 'a', "channel", NULL FROM "ChannelAccount" WHERE "personId" = ? AND "channel" <> 'web'`,
} as const;

export interface ActorRow {
  kind: 'm' | 'g' | 'a';
  ref: string | null;
  role: string | null;
}

export function createHotPath(sql: SqlRunner) {
  return {
    /** True when the update was recorded as handled. */
    async seen(updateKey: string): Promise<boolean> {
      return Boolean(await sql.get(SQL.seen, updateKey));
    },

    /** A channel account and its person, if the account exists. */
    async identity(channel: string, externalId: string): Promise<{ account: ChannelAccount; person: Person } | undefined> {
      const account = await sql.get<ChannelAccount>(SQL.account, channel, externalId);
      if (!account) return undefined;
      const person = await sql.get<Person>(SQL.person, account.personId);
      // The person was removed between the two reads (an erasure at another instance): as if new.
      return person ? { account, person } : undefined;
    },

    conversation(accountId: string): Promise<ConversationRow | undefined> {
      return sql.get<ConversationRow>(SQL.conversation, accountId);
    },

    actorRows(personId: string): Promise<ActorRow[]> {
      return sql.all<ActorRow>(SQL.actor, personId, personId, personId);
    },

    /**
     * Offers each account its choices (JSON text) unless it is in a flow; accounts that no longer
     * exist are skipped. SQLite: one statement for all; PostgreSQL: one per account, one transaction.
     */
    async offerChoices(offers: Array<[accountId: string, choices: string]>, now: Date): Promise<void> {
      if (!offers.length) return;
      if (sql.dialect === 'sqlite') {
        await sql.run(SQL.offerChoicesSqlite, now, JSON.stringify(offers));
        return;
      }
      await sql.batch(offers.map(([accountId, choices]) => ({ sql: SQL.offerChoicesPg, params: [accountId, choices, now, accountId] })));
    },

    /**
     * One turn's writes in one transaction: the "handled" mark first (false, nothing written,
     * when another handler recorded the update meanwhile), then the state, the account's
     * last-seen time and the outbox rows of the replies.
     */
    async finishTurn(turn: {
      updateKey: string;
      now: Date;
      state?: { accountId: string; fields: ConversationWrite };
      seenAccountId?: string;
      deliveries: DeliveryRow[];
    }): Promise<boolean> {
      const { now } = turn;
      const statements: Statement[] = [{ sql: SQL.markHandled, params: [turn.updateKey, now], mustChange: true }];
      if (turn.state) {
        const f = turn.state.fields;
        statements.push({ sql: SQL.saveConversation, params: [turn.state.accountId, f.flow, f.step, f.data, f.choices, f.suspended, now] });
      }
      if (turn.seenAccountId) statements.push({ sql: SQL.lastSeen, params: [now, turn.seenAccountId] });
      for (const d of turn.deliveries) {
        statements.push({ sql: SQL.insertDelivery, params: [d.id, d.kind, d.channel, d.accountId, d.chatId, d.payload, d.traceId, now, now] });
      }
      return sql.batch(statements);
    },
  };
}

export type HotPath = ReturnType<typeof createHotPath>;


