/** Reading report references and waiting for a case notification's choices, as the report tests do. */
import { expect, vi } from 'vitest';
import type { TestApp } from './test-app.js';
import { accountOf } from './roles.js';

/** A report reference: PA- and 4 or 5 characters of the code alphabet. */
export const REF = /^PA-[A-HJ-KMNP-Z2-9]{4,5}$/;

/** The reference in a confirmation text, checked against the code alphabet. */
export function refOf(text: string): string {
  const ref = /PA-[A-Z0-9]+/.exec(text)?.[0];
  if (!ref) throw new Error(`no reference in: ${text}`);
  expect(ref).toMatch(REF);
  return ref;
}

/** Waits until typing a number answers this notification (its choices are offered as the worker sends it). */
export async function offered(t: TestApp, channel: string, externalId: string, choiceId: string, options: { wait?: number } = {}): Promise<void> {
  const account = await accountOf(t.app, channel, externalId);
  await vi.waitFor(
    async () => {
      const conversation = await t.app.db.conversation.findUnique({ where: { accountId: account.id } });
      const choices = JSON.parse(conversation?.choices ?? '[]') as string[];
      if (!choices.includes(choiceId)) throw new Error(`${choiceId} not offered yet (${choices.join(', ')})`);
    },
    { timeout: options.wait ?? 15_000, interval: 10 },
  );
}
