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
import { Prisma, type Person, type ChannelAccount } from '../generated/prisma/client.js';
import { bookkeepingOf, type SqlRunner, type Statement } from './sql-runner.js';

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
  /**
   * The sender on this instance that takes the row at once (handed over in memory, see
   * delivery-worker.ts `adopt`), stored "sending" and claimed by it; unless a row of the channel
   * is queued, which it must not overtake: then the row is stored "queued", as without one.
   */
  claimedBy?: string;
}

/** What a committed turn handed to this instance's sender directly (rows stored "sending"). */
export interface TurnWritten {
  handedOver: string[];
}

const PERSON_COLUMNS = Object.values(Prisma.PersonScalarFieldEnum)
  .map((f) => `p."${f}" AS "person.${f}"`)
  .join(', ');
const CONVERSATION_COLUMNS = ['accountId', 'flow', 'step', 'data', 'choices', 'suspended'].map((f) => `c."${f}" AS "conversation.${f}"`).join(', ');

const SQL = {
  seen: 'SELECT 1 AS "hit" FROM "ProcessedUpdate" WHERE "id" = ?',
  /** The account and its person in one statement: the person's columns come back as "person.<name>". */
  identity: `SELECT a.*, ${PERSON_COLUMNS} FROM "ChannelAccount" a JOIN "Person" p ON p."id" = a."personId" WHERE a."channel" = ? AND a."externalId" = ?`,
  /**
   * What a turn starts from, in one statement and always one row: the "handled" mark, the account
   * with its person (null columns when there is none) and the account's conversation.
   */
  opening: `SELECT (SELECT 1 FROM "ProcessedUpdate" WHERE "id" = ?) AS "turn.seen", a.*, ${PERSON_COLUMNS}, ${CONVERSATION_COLUMNS}
    FROM (SELECT 1 AS "one") o
    LEFT JOIN "ChannelAccount" a ON a."channel" = ? AND a."externalId" = ?
    LEFT JOIN "Person" p ON p."id" = a."personId"
    LEFT JOIN "Conversation" c ON c."accountId" = a."id"`,
  conversation: 'SELECT "flow", "step", "data", "choices", "suspended" FROM "Conversation" WHERE "accountId" = ?',
  markHandled: 'INSERT INTO "ProcessedUpdate" ("id", "createdAt") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
  saveConversation: `INSERT INTO "Conversation" ("accountId", "flow", "step", "data", "choices", "suspended", "updatedAt")
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT ("accountId") DO UPDATE SET "flow" = excluded."flow", "step" = excluded."step", "data" = excluded."data",
      "choices" = excluded."choices", "suspended" = excluded."suspended", "updatedAt" = excluded."updatedAt"`,
  lastSeen: 'UPDATE "ChannelAccount" SET "lastSeenAt" = ? WHERE "id" = ?',
  /** What the platform says of an account now (name, chat, reachable again), with its last-seen time. */
  refreshAccount: `UPDATE "ChannelAccount" SET "chatId" = ?, "displayName" = ?, "username" = ?, "unreachableAt" = ?, "unreachableReason" = ?, "lastSeenAt" = ?
    WHERE "id" = ?`,
  insertDelivery: `INSERT INTO "Delivery" ("id", "kind", "channel", "accountId", "chatId", "payload", "traceId", "status", "attempts", "nextAttemptAt", "createdAt")
    VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
  /** A reply offered to the sender (SQLite): stored claimed by it when nothing of its channel is queued, else queued. */
  insertDeliveryOffered: `INSERT INTO "Delivery" ("id", "kind", "channel", "accountId", "chatId", "payload", "traceId", "status", "claimedBy", "attempts", "nextAttemptAt", "createdAt")
    SELECT ?, ?, ?, ?, ?, ?, ?, t."status", CASE t."status" WHEN 'sending' THEN ? END, 0, ?, ?
    FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM "Delivery" q WHERE q."channel" = ? AND q."status" = 'queued') THEN 'queued' ELSE 'sending' END AS "status") t
    RETURNING "status"`,
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
  /** Takes back an offer whose message never arrived, unless the conversation moved on since (a newer offer, a flow). */
  withdrawChoices: `UPDATE "Conversation" SET "choices" = '[]', "updatedAt" = ?
    WHERE "accountId" = ? AND "flow" IS NULL AND "choices" = ?`,
  actor: `SELECT 'm' AS "kind", "groupId" AS "ref", "role" FROM "Membership" WHERE "personId" = ? AND "state" = 'active'
    UNION ALL SELECT 'g', "areaId", "role" FROM "RoleGrant" WHERE "personId" = ? AND "revokedAt" IS NULL
    UNION ALL SELECT 'a', "channel", NULL FROM "ChannelAccount" WHERE "personId" = ? AND "channel" <> 'web'`,
} as const;

/** What hot.opening read: the "handled" mark; the account and its person, and its conversation, when they exist. */
export interface TurnOpening {
  seen: boolean;
  identity?: { account: ChannelAccount; person: Person };
  conversation?: ConversationRow;
}

/** A row's columns by prefix: "person.locale" under person, "turn.seen" under turn, the rest under account. */
function splitColumns(row: Record<string, unknown>): Record<'account' | 'person' | 'turn' | 'conversation', Record<string, unknown>> {
  const out = { account: {}, person: {}, turn: {}, conversation: {} } as Record<'account' | 'person' | 'turn' | 'conversation', Record<string, unknown>>;
  for (const key in row) {
    const dot = key.indexOf('.');
    if (dot < 0) out.account[key] = row[key];
    else out[key.slice(0, dot) as 'person' | 'turn' | 'conversation'][key.slice(dot + 1)] = row[key];
  }
  return out;
}

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
      // No row: no such account, or its person is gone (an erasure at another instance): as if new.
      const row = await sql.get<Record<string, unknown>>(SQL.identity, channel, externalId);
      if (!row) return undefined;
      const { account, person } = splitColumns(row);
      return { account: account as unknown as ChannelAccount, person: person as unknown as Person };
    },

    /**
     * A turn's opening read, one statement instead of three (seen, identity, conversation): whether
     * the update was handled, the account and its person if both exist, and the account's
     * conversation if it has one.
     */
    async opening(updateKey: string, channel: string, externalId: string): Promise<TurnOpening> {
      const row = (await sql.get<Record<string, unknown>>(SQL.opening, updateKey, channel, externalId))!;
      const { turn, account, person, conversation } = splitColumns(row);
      if (account.id == null || person.id == null) return { seen: turn.seen != null };
      return {
        seen: turn.seen != null,
        identity: { account: account as unknown as ChannelAccount, person: person as unknown as Person },
        conversation: conversation.accountId == null ? undefined : (conversation as unknown as ConversationRow),
      };
    },

    /**
     * Writes an account's refreshed fields (a new name, chat or username, reachable again) and its
     * last-seen time: bookkeeping (sql-runner.ts), as nothing the person sent depends on it.
     */
    async refreshAccount(account: ChannelAccount): Promise<void> {
      const a = account;
      await bookkeepingOf(sql).run(SQL.refreshAccount, a.chatId, a.displayName, a.username, a.unreachableAt, a.unreachableReason, a.lastSeenAt, a.id);
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
        await bookkeepingOf(sql).run(SQL.offerChoicesSqlite, now, JSON.stringify(offers));
        return;
      }
      // One offer (the usual case: the offer is written just before its message is sent) needs no transaction.
      if (offers.length === 1) {
        const [[accountId, choices]] = offers as [[string, string]];
        await bookkeepingOf(sql).run(SQL.offerChoicesPg, accountId, choices, now, accountId);
        return;
      }
      await bookkeepingOf(sql).batch(offers.map(([accountId, choices]) => ({ sql: SQL.offerChoicesPg, params: [accountId, choices, now, accountId] })));
    },

    /**
     * Withdraws offers (accountId, the choices as offered) whose messages were refused: each
     * conversation not in a flow whose choices still are that offer is left with none.
     */
    async withdrawChoices(offers: Array<[accountId: string, choices: string]>, now: Date): Promise<void> {
      if (!offers.length) return;
      await bookkeepingOf(sql).batch(offers.map(([accountId, choices]) => ({ sql: SQL.withdrawChoices, params: [now, accountId, choices] })));
    },

    /**
     * One turn's writes in one transaction: the "handled" mark first (null, nothing written,
     * when another handler recorded the update meanwhile), then the state, the account's
     * last-seen time and the outbox rows of the replies; returns the rows handed over.
     */
    async finishTurn(turn: {
      updateKey: string;
      now: Date;
      state?: { accountId: string; fields: ConversationWrite };
      seenAccountId?: string;
      deliveries: DeliveryRow[];
    }): Promise<TurnWritten | null> {
      const { now } = turn;
      if (sql.dialect === 'postgresql') return finishTurnPg(sql, turn);
      const handedOver: string[] = [];
      const statements: Statement[] = [{ sql: SQL.markHandled, params: [turn.updateKey, now], mustChange: true }];
      if (turn.state) {
        const f = turn.state.fields;
        statements.push({ sql: SQL.saveConversation, params: [turn.state.accountId, f.flow, f.step, f.data, f.choices, f.suspended, now] });
      }
      if (turn.seenAccountId) statements.push({ sql: SQL.lastSeen, params: [now, turn.seenAccountId] });
      for (const d of turn.deliveries) {
        const row = [d.id, d.kind, d.channel, d.accountId, d.chatId, d.payload, d.traceId];
        if (!d.claimedBy) {
          statements.push({ sql: SQL.insertDelivery, params: [...row, now, now] });
          continue;
        }
        statements.push({ sql: SQL.insertDeliveryOffered, params: [...row, d.claimedBy, now, now, d.channel], returned: (r) => void (r?.status === 'sending' && handedOver.push(d.id)) });
      }
      return (await sql.batch(statements)) ? { handedOver } : null;
    },
  };
}

export type HotPath = ReturnType<typeof createHotPath>;

/**
 * The turn's writes on PostgreSQL as one statement (data-modifying WITH clauses, atomic like any
 * statement): one round trip instead of BEGIN, four statements and COMMIT. Every write but the
 * "handled" mark selects FROM its insert, so when the update was recorded already (the insert
 * returns no row) nothing at all is written, as the batch's roll-back does on SQLite.
 */
async function finishTurnPg(
  sql: SqlRunner,
  turn: { updateKey: string; now: Date; state?: { accountId: string; fields: ConversationWrite }; seenAccountId?: string; deliveries: DeliveryRow[] },
): Promise<TurnWritten | null> {
  const { now } = turn;
  const parts = [`h AS (INSERT INTO "ProcessedUpdate" ("id", "createdAt") VALUES (?, ?::timestamp(3)) ON CONFLICT ("id") DO NOTHING RETURNING 1 AS "ok")`];
  const params: unknown[] = [turn.updateKey, now];
  if (turn.state) {
    const f = turn.state.fields;
    parts.push(`c AS (INSERT INTO "Conversation" ("accountId", "flow", "step", "data", "choices", "suspended", "updatedAt")
      SELECT ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamp(3) FROM h
      ON CONFLICT ("accountId") DO UPDATE SET "flow" = excluded."flow", "step" = excluded."step", "data" = excluded."data",
        "choices" = excluded."choices", "suspended" = excluded."suspended", "updatedAt" = excluded."updatedAt")`);
    params.push(turn.state.accountId, f.flow, f.step, f.data, f.choices, f.suspended, now);
  }
  if (turn.seenAccountId) {
    parts.push(`s AS (UPDATE "ChannelAccount" SET "lastSeenAt" = ?::timestamp(3) WHERE "id" = ?::text AND EXISTS (SELECT 1 FROM h))`);
    params.push(now, turn.seenAccountId);
  }
  if (turn.deliveries.length) {
    // A row with a claimer is stored "sending", claimed by it, when nothing of its channel is queued
    // (the statement's snapshot: rows committed before it began); otherwise "queued". The channel
    // is a parameter of its own, looked up once: taken from each row (a correlated subquery), the
    // planner searched the (channel, status, ...) index by status alone, the whole index every turn.
    const takeChannel = turn.deliveries.find((d) => d.claimedBy)?.channel;
    if (takeChannel) {
      parts.push(`t AS (SELECT NOT EXISTS (SELECT 1 FROM "Delivery" q WHERE q."channel" = ?::text AND q."status" = 'queued') AS "take")`);
      params.push(takeChannel);
    }
    parts.push(`d AS (INSERT INTO "Delivery" ("id", "kind", "channel", "accountId", "chatId", "payload", "traceId", "status", "claimedBy", "attempts", "nextAttemptAt", "createdAt")
      SELECT r."id", r."kind", r."channel", r."accountId", r."chatId", r."payload", r."traceId", CASE WHEN x."take" THEN 'sending' ELSE 'queued' END,
        CASE WHEN x."take" THEN r."claimedBy" END, 0, ?::timestamp(3), ?::timestamp(3)
      FROM h${takeChannel ? ', t' : ''}, json_to_recordset(?::json) AS r("id" text, "kind" text, "channel" text, "accountId" text, "chatId" text, "payload" text, "traceId" text, "claimedBy" text),
        LATERAL (SELECT ${takeChannel ? `t."take" AND r."claimedBy" IS NOT NULL AND r."channel" = ?::text` : 'false'} AS "take") x
      RETURNING "id", "status")`);
    params.push(now, now, JSON.stringify(turn.deliveries));
    if (takeChannel) params.push(takeChannel);
  }
  const handed = turn.deliveries.length ? `(SELECT coalesce(json_agg("id"), '[]'::json) FROM d WHERE "status" = 'sending')` : `'[]'::json`;
  const row = await sql.get<{ n: number; handed: string[] }>(`WITH ${parts.join(',\n')}\nSELECT count(*)::int AS "n", ${handed} AS "handed" FROM h`, ...params);
  return row?.n ? { handedOver: row.handed } : null;
}


