/** Web chat replies wait in the database until the page fetches them, so a restart loses none. */
import type { Db } from '../core/services/db.js';
import type { Outbound } from '../core/messages.js';

export function createWebInbox(db: Db) {
  return {
    async push(session: string, messages: Outbound[]): Promise<number[]> {
      const seqs: number[] = [];
      for (const message of messages) {
        const row = await db.webMessage.create({ data: { session, payload: JSON.stringify(message) } });
        seqs.push(row.seq);
      }
      return seqs;
    },
    /** Removes every message of a web account (its person was erased and the page was handed them). */
    async removeAll(session: string): Promise<void> {
      await db.webMessage.deleteMany({ where: { session } });
    },
    async after(session: string, seq: number, limit = 100): Promise<(Outbound & { seq: number })[]> {
      const rows = await db.webMessage.findMany({ where: { session, seq: { gt: seq } }, orderBy: { seq: 'asc' }, take: limit });
      return rows.map((r) => ({ seq: r.seq, ...(JSON.parse(r.payload) as Outbound) }));
    },
  };
}

export type WebInbox = ReturnType<typeof createWebInbox>;
