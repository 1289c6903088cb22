import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { texts, waitForWebMessage, type WebClient } from '../helpers/web-client.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { onboardWeb as onboard } from '../helpers/onboarding.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

const waitForMessage = (web: WebClient, pattern: RegExp) => waitForWebMessage(web, pattern, 8000);

describe('alerts on the web chat', () => {
  it('composes, previews, sends to every member once, records answers and a need-help case', async () => {
    const t = await startTestApp({ appOptions: { alertFollowUpMs: 200 } });
    running.push(t);
    const leader = await onboard(t.baseUrl, 'KMA234');
    const residents = [await onboard(t.baseUrl, 'KMA234'), await onboard(t.baseUrl, 'KMA234')];
    const outsider = await onboard(t.baseUrl, 'DBC345');
    await makeLeader(t.app, (await personOf(t.app, 'web', leader.session)).id, 'HN-GV-01');

    let r = await outsider.say('/alert');
    expect(texts(r)).toMatch(/Chỉ tổ trưởng, tổ phó/);

    r = await leader.say('/alert');
    expect(texts(r)).toMatch(/Loại cảnh báo/);
    r = await leader.pick(r, 'Cháy');
    r = await leader.pick(r, 'Cao');
    r = await leader.say('Cháy kho ở ngõ 5');
    r = await leader.say('Đang có cháy tại kho hàng ngõ 5, khói lớn.');
    r = await leader.say('Tránh xa khu vực, đóng cửa sổ.');
    r = await leader.say('abc');
    expect(texts(r)).toMatch(/Không hiểu thời hạn/);
    r = await leader.say('2 giờ');
    r = await leader.pick(r, 'Diễn tập');
    expect(texts(r)).toMatch(/Xem trước/);
    expect(texts(r)).toMatch(/DIỄN TẬP/);
    expect(texts(r)).toMatch(/3 người nhận/);
    expect(await t.app.db.delivery.count({ where: { kind: 'alert' } })).toBe(0);
    r = await leader.pick(r, 'Gửi cảnh báo');
    expect(texts(r)).toMatch(/Đã bắt đầu gửi cảnh báo tới 3 người/);
    // The sender's status message comes through the outbox, maybe already with the confirmation.
    const first = r.find((m) => /Tình hình cảnh báo/.test(m.text)) ?? (await waitForMessage(leader, /Tình hình cảnh báo/));

    const copies = await Promise.all(residents.map((w) => waitForMessage(w, /CẢNH BÁO — .*\(mức cao\)/)));
    for (const copy of copies) {
      expect(copy.text.match(/DIỄN TẬP/g)?.length).toBe(2);
      expect(copy.choices?.flat().map((c) => c.label)).toEqual(['✅ Đã nhận', '🙆 Tôi an toàn', '🆘 Cần giúp đỡ']);
    }
    r = await residents[0]!.choose(copies[0]!.choices![1]![0]!.id);
    expect(texts(r)).toMatch(/Đã ghi nhận/);
    r = await residents[1]!.say('3'); // typed number answers the notification
    expect(texts(r)).toMatch(/Đã báo cho .+ \(mã phản ánh PA-/);
    // The web chat cannot edit a message: the sender refreshes the counts with the button.
    r = await leader.choose(first.choices![0]![0]!.id);
    expect(texts(r)).toMatch(/Đã gửi xong: 3/);
    expect(texts(r)).toMatch(/"Tôi an toàn": 1\n🆘 "Cần giúp đỡ": 1/);
    const helpCase = await t.app.db.case.findFirstOrThrow({ where: { urgent: true } });
    expect(helpCase.description).toMatch(/cần giúp đỡ/);
    const outsiderMessages = (await outsider.fetchNew()).messages.map((m) => m.text).join('\n');
    expect(outsiderMessages).not.toMatch(/CẢNH BÁO/);
  });
});
