/**
 * A regression guard on the cost of one update (issue #10): the database statements an ordinary
 * update runs are counted at the drivers (better-sqlite3 statements, node-postgres queries; the
 * BEGIN/COMMIT of a transaction not counted), and the test fails when a change makes one of these
 * updates cost more than it does now. Lowering a budget after an improvement is welcome; raising
 * one needs a reason in docs/design-notes.md ("Cost of one update").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_POSTGRES_URL, type TestApp } from '../helpers/test-app.js';
import type { Inbound } from '../../src/core/messages.js';
import { statementCounter } from '../helpers/statement-counter.js';

/** Statements per update: the budget each case must stay within. */
const BUDGET = TEST_POSTGRES_URL
  ? {
      /**
       * "/menu" typed by an onboarded resident: one read of the "handled" mark, the account with
       * its person and its conversation (hot-path.ts, opening); the actor once (the menu's two
       * entries for handlers share one answer); then the turn's writes (the mark, the state, the
       * last-seen time, the reply) as one statement (finishTurnPg).
       */
      menuCommand: 3,
      /** The "Help" button of the main menu: the same, plus the actor for the handler's help line (the second reply is in the same write). */
      menuPress: 4,
      /** A description typed in the report flow (the next step's prompt comes back). */
      typedAnswer: 2,
      /** The same update delivered again: only the opening read. */
      repeat: 1,
    }
  : {
      /** The same reads; then one transaction of four writes (the mark, the state, the last-seen time, the reply). */
      menuCommand: 6,
      /** The "Help" button: the same, plus the actor for the handler's help line and a second reply. */
      menuPress: 8,
      typedAnswer: 5,
      repeat: 1,
    };

describe(`database statements per update (${TEST_POSTGRES_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  let t: TestApp;
  let counter: ReturnType<typeof statementCounter>;
  let update = 0;
  const from = { channel: 'telegram' as const, accountId: '5550001', chatId: '5550001', chatType: 'private' as const, displayName: 'Chị Lan' };
  const send = (payload: Record<string, unknown>, updateId = String(++update)) => t.app.core.handle({ ...from, updateId, ...payload } as Inbound);

  beforeAll(async () => {
    // No background jobs: every statement counted is the update's own.
    t = await startTestApp({ env: { BACKGROUND_JOBS: 'off' } });
    counter = statementCounter();
    // A resident who has read the privacy notice and is in one group.
    await send({ kind: 'command', command: 'start', args: '' });
    const account = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'telegram', externalId: from.accountId } } });
    await t.app.services.people.markOnboarded(account.personId);
    const group = await t.app.db.group.findFirstOrThrow({ orderBy: { code: 'asc' } });
    await t.app.db.membership.create({ data: { groupId: group.id, personId: account.personId, state: 'active' } });
  });
  afterAll(async () => {
    counter?.restore();
    await t?.dispose();
  });

  it('"/menu", a menu button and a typed answer stay within their budgets, with the same replies as before', async () => {
    let replies: Awaited<ReturnType<typeof send>> = [];
    const menu = await counter.during(async () => (replies = await send({ kind: 'command', command: 'menu', args: '' })));
    expect(replies.at(-1)?.choices?.flat().map((c) => c.id)).toContain('menu:help');

    const press = await counter.during(async () => (replies = await send({ kind: 'choice', choice: 'menu:help' })));
    expect(replies.length).toBeGreaterThan(0);

    // Into the report flow as far as its description, then the typed answer is measured.
    await send({ kind: 'choice', choice: 'menu:report' });
    await send({ kind: 'choice', choice: 'report:nodanger' });
    replies = await send({ kind: 'choice', choice: 'report:cat:security' });
    expect(replies.at(-1)?.choices ?? []).toEqual([]);
    const typed = await counter.during(async () => (replies = await send({ kind: 'text', text: 'Đèn đường ở ngõ 12 bị hỏng ba hôm nay, tối đi lại rất nguy hiểm.' })));
    expect(replies.length).toBeGreaterThan(0);

    const repeat = await counter.during(async () => (replies = await send({ kind: 'command', command: 'menu', args: '' }, String(update))));
    expect(replies).toEqual([]);

    const report = { menu: menu.length, press: press.length, typed: typed.length, repeat: repeat.length };
    // The statements themselves, for whoever has to find what grew.
    const detail = JSON.stringify({ menu, press, typed, repeat }, null, 1);
    expect(report.menu, detail).toBeLessThanOrEqual(BUDGET.menuCommand);
    expect(report.press, detail).toBeLessThanOrEqual(BUDGET.menuPress);
    expect(report.typed, detail).toBeLessThanOrEqual(BUDGET.typedAnswer);
    expect(report.repeat, detail).toBeLessThanOrEqual(BUDGET.repeat);
  });
});
