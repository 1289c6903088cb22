import { isSqlite, type Db } from './db.js';
import type { Outbound } from '../messages.js';
import type { Tx } from './outbox.service.js';

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

async function saveState(tx: Tx, accountId: string, state: ConversationState): Promise<void> {
  const fields = {
    flow: state.flow,
    step: state.step,
    data: JSON.stringify(state.data),
    choices: JSON.stringify(state.choices),
    suspended: state.suspended ? JSON.stringify(state.suspended) : null,
  };
  await tx.conversation.upsert({ where: { accountId }, create: { accountId, ...fields }, update: fields });
}

export function createConversationService(db: Db) {
  return {
    async load(accountId: string): Promise<ConversationState> {
      const row = await db.conversation.findUnique({ where: { accountId } });
      if (!row) return { ...EMPTY_STATE };
      return {
        flow: row.flow,
        step: row.step,
        data: safeJson(row.data, {}),
        choices: safeJson(row.choices, []),
        suspended: row.suspended ? safeJson(row.suspended, null) : null,
      };
    },
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
     * offerChoices for many deliveries at once (the delivery worker calls it per batch), on SQLite
     * in one statement: a per-row Prisma read and upsert cost about 2 ms of CPU per message sent.
     * For an account offered twice, the later offer wins. Accounts deleted meanwhile are skipped.
     */
    async offerChoicesMany(offers: Array<{ accountId: string; choiceIds: string[] }>): Promise<void> {
      const latest = new Map<string, string>();
      for (const o of offers) {
        latest.delete(o.accountId);
        latest.set(o.accountId, JSON.stringify(o.choiceIds));
      }
      if (!latest.size) return;
      if (!isSqlite(db)) {
        let failure: unknown;
        for (const [accountId, choices] of latest) {
          try {
            const row = await db.conversation.findUnique({ where: { accountId }, select: { flow: true } });
            if (!row?.flow) await db.conversation.upsert({ where: { accountId }, create: { accountId, choices }, update: { choices } });
          } catch (error) {
            failure ??= error; // the others still get theirs; the worker logs the failure
          }
        }
        if (failure) throw failure;
        return;
      }
      await db.$executeRawUnsafe(
        `INSERT INTO "Conversation" ("accountId", "choices", "updatedAt")
         SELECT r.value ->> 0, r.value ->> 1, ? FROM json_each(?) AS r
         WHERE EXISTS (SELECT 1 FROM "ChannelAccount" a WHERE a."id" = r.value ->> 0)
         ON CONFLICT ("accountId") DO UPDATE SET "choices" = excluded."choices", "updatedAt" = excluded."updatedAt"
         WHERE "Conversation"."flow" IS NULL`,
        new Date(),
        JSON.stringify([...latest]),
      );
    },
  };
}

export type ConversationService = ReturnType<typeof createConversationService>;

/** Where one handled message's replies go, inside the transaction that records the message as handled. */
export interface ReplySink {
  /**
   * Stores the direct replies (the outbox for messengers, the inbox for the web chat);
   * returns the channels whose delivery worker should be woken after the commit.
   */
  write(tx: Tx, to: { channel: string; accountId: string | null; chatId: string }, replies: Outbound[]): Promise<Set<string>>;
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
  async function seen(id: string): Promise<boolean> {
    return Boolean(await db.processedUpdate.findUnique({ where: { id }, select: { id: true } }));
  }
  return {
    /** True when this update was handled already (a repeat); nothing is recorded. */
    seen,
    /**
     * In one transaction: records the update as handled, saves the conversation state (unless
     * null: nothing may be stored, or nothing changed) and stores the replies through `sink`.
     * Returns the channels to wake, or null when another handler recorded the update first
     * (the same update handled twice at once, e.g. by two instances): then nothing is written.
     */
    async finishTurn(turn: {
      updateKey: string;
      accountId: string;
      state: ConversationState | null;
      replies: Outbound[];
      to: { channel: string; accountId: string | null; chatId: string };
      sink: ReplySink;
    }): Promise<Set<string> | null> {
      let channels: Set<string>;
      try {
        channels = await db.$transaction(
          async (tx) => {
            await tx.processedUpdate.create({ data: { id: turn.updateKey } });
            if (turn.state) await saveState(tx, turn.accountId, turn.state);
            return turn.replies.length ? turn.sink.write(tx, turn.to, turn.replies) : new Set<string>();
          },
          { timeout: 20_000 },
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002' && (await seen(turn.updateKey))) return null;
        throw error;
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
