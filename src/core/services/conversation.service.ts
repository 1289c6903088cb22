import type { Db } from './db.js';
import type { Outbound } from '../messages.js';
import { packChoices } from '../choice-match.js';
import type { Tx } from './outbox.service.js';
import { createHotPath, sqlRunnerOf, type ConversationRow, type ConversationWrite, type DeliveryRow, type TurnOpening } from '../../persistence/hot-path.js';

/** Where a person is in a flow; stored per channel account so a restart resumes it. */
export interface ConversationState {
  flow: string | null;
  step: string | null;
  data: Record<string, unknown>;
  /** Ids of the choices last offered, in order: typing "2" picks the second. */
  choices: string[];
  /** A flow put aside by a command, offered back by /resume. */
  suspended: { flow: string; step: string; data: Record<string, unknown> } | null;
}

export const EMPTY_STATE: ConversationState = { flow: null, step: null, data: {}, choices: [], suspended: null };

function stateOf(row: ConversationRow | undefined): ConversationState {
  if (!row) return { ...EMPTY_STATE };
  return {
    flow: row.flow,
    step: row.step,
    data: safeJson(row.data, {}),
    choices: safeJson(row.choices, []),
    suspended: row.suspended ? safeJson(row.suspended, null) : null,
  };
}

function stateFields(state: ConversationState): ConversationWrite {
  return {
    flow: state.flow,
    step: state.step,
    data: JSON.stringify(state.data),
    choices: JSON.stringify(state.choices),
    suspended: state.suspended ? JSON.stringify(state.suspended) : null,
  };
}

async function saveState(tx: Tx, accountId: string, state: ConversationState): Promise<void> {
  const fields = stateFields(state);
  await tx.conversation.upsert({ where: { accountId }, create: { accountId, ...fields }, update: fields });
}

export function createConversationService(db: Db) {
  const hot = createHotPath(sqlRunnerOf(db));
  return {
    async load(accountId: string): Promise<ConversationState> {
      return stateOf(await hot.conversation(accountId));
    },
    /** The state of a conversation row read with others (processedUpdates.open); none: no flow, nothing offered. */
    stateOf,
    async save(accountId: string, state: ConversationState): Promise<void> {
      await saveState(db, accountId, state);
    },
    /**
     * A notification with choices was delivered: typing its numbers should answer it, unless
     * the person is in the middle of a flow (then the numbers belong to the flow).
     */
    async offerChoices(accountId: string, choiceIds: string[]): Promise<void> {
      const row = await db.conversation.findUnique({ where: { accountId }, select: { flow: true } });
      if (row?.flow) return;
      const choices = JSON.stringify(choiceIds);
      await db.conversation.upsert({ where: { accountId }, create: { accountId, choices }, update: { choices } });
    },
    /**
     * offerChoices for many deliveries at once (the delivery worker calls it per batch), in one
     * transaction of prepared statements (one statement in all on SQLite): a per-row Prisma read
     * and upsert cost about 2 ms of CPU per message sent. For an account offered twice, the later
     * offer wins. Accounts deleted meanwhile are skipped.
     */
    async offerChoicesMany(offers: Array<{ accountId: string; choiceIds: string[] }>): Promise<void> {
      await hot.offerChoices([...latestOffers(offers)], new Date());
    },
    /**
     * Takes back offers whose message was refused for good (it never arrived): a conversation
     * whose choices still are that offer is left with none; one that moved on since (a newer
     * offer, a flow, an answer) is left alone.
     */
    async withdrawChoicesMany(offers: Array<{ accountId: string; choiceIds: string[] }>): Promise<void> {
      await hot.withdrawChoices([...latestOffers(offers)], new Date());
    },
    /**
     * The choices typing a number should pick after these deliveries: those of each
     * notification with choices; none of direct replies (the turn that queued them stored what
     * they offer). The delivery worker records them before the messages go out (app.ts).
     */
    offersOf(rows: Array<{ accountId: string | null; kind: string; payload: Outbound }>): Array<{ accountId: string; choiceIds: string[] }> {
      return rows.flatMap((row) => {
        const ids = packChoices(row.payload.choices?.flat() ?? []); // ids, then labels: typing "Đã nhận" works too
        return row.kind !== 'reply' && ids.length && row.accountId ? [{ accountId: row.accountId, choiceIds: ids }] : [];
      });
    },
  };
}

/** One offer per account, the later winning, as JSON text. */
function latestOffers(offers: Array<{ accountId: string; choiceIds: string[] }>): Map<string, string> {
  const latest = new Map<string, string>();
  for (const o of offers) {
    latest.delete(o.accountId);
    latest.set(o.accountId, JSON.stringify(o.choiceIds));
  }
  return latest;
}

export type ConversationService = ReturnType<typeof createConversationService>;

/** Where one handled message's replies go, inside the transaction that records the message as handled. */
export interface ReplySink {
  /**
   * Stores the direct replies (the outbox for messengers, the inbox for the web chat);
   * returns the channels whose delivery worker should be woken after the commit.
   */
  write(tx: Tx, to: { channel: string; accountId: string | null; chatId: string }, replies: Outbound[]): Promise<Set<string>>;
  /**
   * The same replies as outbox rows, for the hot path's one transaction of prepared statements;
   * undefined when this channel stores its replies another way (then `write` runs in a Prisma
   * transaction instead).
   */
  rows?(to: { channel: string; accountId: string | null; chatId: string }, replies: Outbound[]): DeliveryRow[] | undefined;
  /** After the commit: the rows of `rows` stored claimed by their `claimedBy` sender, for it to send. */
  handedOver?(rows: DeliveryRow[]): void;
}

/**
 * Remembers handled platform updates so a repeated delivery (webhook retry, poll overlap,
 * the same update after a crash) has no effect twice. An update is recorded as handled in
 * the same transaction as the conversation state it produced and its replies (`finishTurn`):
 * a crash before that commit leaves it unhandled, so the platform's retry handles it again.
 */
export function createProcessedUpdates(db: Db) {
  let lastPrune = 0;
  async function prune() {
    const now = Date.now();
    if (now - lastPrune < 60 * 60 * 1000) return;
    lastPrune = now;
    await db.processedUpdate.deleteMany({ where: { createdAt: { lt: new Date(now - 24 * 60 * 60 * 1000) } } });
  }
  const hot = createHotPath(sqlRunnerOf(db));
  const seen = (id: string) => hot.seen(id);
  return {
    /**
     * What a turn starts from, in one read (on PostgreSQL one round trip instead of three):
     * whether the update was handled already, the account and its person (none: a new account,
     * or its person erased), and the account's conversation.
     */
    open(updateKey: string, inbound: { channel: string; accountId: string }): Promise<TurnOpening> {
      return hot.opening(updateKey, inbound.channel, inbound.accountId);
    },
    /**
     * In one transaction: records the update as handled, saves the conversation state (unless
     * null: nothing may be stored, or nothing changed), sets the account's last-seen time (when
     * `seenAccountId` is given) and stores the replies through `sink`. Returns the channels to
     * wake, or null when another handler recorded the update first (the same update handled
     * twice at once, e.g. by two instances): then nothing is written.
     */
    async finishTurn(turn: {
      updateKey: string;
      accountId: string;
      state: ConversationState | null;
      replies: Outbound[];
      to: { channel: string; accountId: string | null; chatId: string };
      sink: ReplySink;
      seenAccountId?: string;
    }): Promise<Set<string> | null> {
      const now = new Date();
      const rows = turn.replies.length ? turn.sink.rows?.(turn.to, turn.replies) : [];
      let channels: Set<string>;
      if (rows) {
        // The hot path: prepared statements in one transaction (docs/design-notes.md).
        const done = await hot.finishTurn({
          updateKey: turn.updateKey,
          now,
          state: turn.state ? { accountId: turn.accountId, fields: stateFields(turn.state) } : undefined,
          seenAccountId: turn.seenAccountId,
          deliveries: rows,
        });
        if (!done) return null;
        // Rows handed to this instance's sender need no wake-up (no claim): it has them already.
        const handed = new Set(done.handedOver);
        if (handed.size) turn.sink.handedOver?.(rows.filter((r) => handed.has(r.id)));
        channels = new Set(rows.filter((r) => !handed.has(r.id)).map((r) => r.channel));
      } else {
        try {
          channels = await db.$transaction(
            async (tx) => {
              await tx.processedUpdate.create({ data: { id: turn.updateKey, createdAt: now } });
              if (turn.state) await saveState(tx, turn.accountId, turn.state);
              if (turn.seenAccountId) await tx.channelAccount.updateMany({ where: { id: turn.seenAccountId }, data: { lastSeenAt: now } });
              return turn.sink.write(tx, turn.to, turn.replies);
            },
            { timeout: 20_000 },
          );
        } catch (error) {
          if ((error as { code?: string }).code === 'P2002' && (await seen(turn.updateKey))) return null;
          throw error;
        }
      }
      await prune().catch(() => undefined);
      return channels;
    },
  };
}

function safeJson<T>(raw: string, fallback: T): T {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}
