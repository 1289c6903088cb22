/**
 * A neighbour dispute chosen in the report flow goes to the group's mediation team instead of
 * becoming a case; with someone in danger now it stays a report for the leaders and the police.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { texts } from '../helpers/web-client.js';
import { onboardWeb } from '../helpers/onboarding.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

describe('the dispute category of a report', () => {
  it('offers mediation instead of a report, unless someone is in danger now', async () => {
    const t = await startTestApp();
    running.push(t);
    const resident = await onboardWeb(t.baseUrl, 'KMA234');

    let r = await resident.say('/report');
    r = await resident.pick(r, 'Không');
    r = await resident.pick(r, 'hàng xóm');
    expect(texts(r)).toMatch(/tổ hòa giải/);
    r = await resident.say('Nhà bên cạnh xây tường lấn sang lối đi chung');
    expect(await t.app.db.case.count()).toBe(0);

    await resident.say('/cancel');
    r = await resident.say('/report');
    r = await resident.pick(r, 'Có');
    expect(texts(r)).toMatch(/113/);
    r = await resident.pick(r, 'hàng xóm');
    expect(texts(r)).not.toMatch(/tổ hòa giải/);
    expect(texts(r)).toMatch(/kể lại sự việc|mô tả|Mô tả/);
  });
});
