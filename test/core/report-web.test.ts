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

const waitForMessage = (web: WebClient, pattern: RegExp) => waitForWebMessage(web, pattern, 5000);

describe('report flow on the web chat', () => {
  it('files an anonymous report, reaches the leader, and the thread goes both ways', async () => {
    const t = await startTestApp();
    running.push(t);
    const resident = await onboard(t.baseUrl, 'KMA234');
    const leader = await onboard(t.baseUrl, 'KMA234');
    await makeLeader(t.app, (await personOf(t.app, 'web', leader.session)).id, 'HN-GV-01');

    let r = await resident.say('/report');
    expect(texts(r)).toMatch(/Có ai đang gặp nguy hiểm/);
    r = await resident.pick(r, 'Không');
    expect(texts(r)).toMatch(/Sự việc thuộc loại nào/);
    r = await resident.pick(r, 'ồn ào');
    r = await resident.say('');
    r = await resident.say('Karaoke rất to sau 23h ở ngõ 12');
    expect(texts(r)).toMatch(/ảnh chụp/);
    r = await resident.pick(r, 'Bỏ qua');
    r = await resident.say('Ngõ 12 Kim Mã');
    r = await resident.pick(r, 'Ẩn danh');
    expect(texts(r)).toMatch(/Xem lại phản ánh/);
    expect(texts(r)).toMatch(/Ngõ 12 Kim Mã/);
    r = await resident.pick(r, 'Gửi phản ánh');
    const ref = /PA-[A-Z2-9]{4}/.exec(texts(r))?.[0];
    expect(ref).toBeDefined();

    const note = await waitForMessage(leader, new RegExp(`Phản ánh mới ${ref}`));
    expect(note.text).toMatch(/Người phản ánh: ẩn danh #[A-Z2-9]{4}/);
    r = await leader.choose(note.choices![0]![0]!.id);
    expect(texts(r)).toMatch(/Karaoke rất to/);
    r = await leader.pick(r, 'Tiếp nhận');
    expect(texts(r)).toMatch(/Đã tiếp nhận/);
    await waitForMessage(resident, new RegExp(`${ref} của bạn đã được tiếp nhận`));
    r = await leader.pick(r, 'Hỏi');
    r = await leader.say('Nhà số mấy vậy bác?');
    const question = await waitForMessage(resident, /Nhà số mấy/);
    r = await resident.choose(question.choices![0]![0]!.id);
    r = await resident.say('Nhà số 7');
    expect(texts(r)).toMatch(/Đã gửi câu trả lời của bạn/);
    await waitForMessage(leader, /Nhà số 7/);

    r = await leader.say('/cases');
    r = await leader.pick(r, ref!);
    r = await leader.pick(r, 'Đã xử lý xong');
    r = await leader.say('Đã nhắc nhở hộ gia đình');
    const resolved = await waitForMessage(resident, /đã được xử lý/);
    r = await resident.say('2'); // Chưa ổn, by number
    expect(texts(r)).toMatch(/chuyển lại cho người xử lý/);
    await waitForMessage(leader, /CHƯA được giải quyết/);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref: ref! }, include: { events: true } });
    expect(c.status).toBe('reopened');
    expect(c.events.map((e) => e.type)).toEqual(['created', 'acknowledged', 'asked', 'reporter_message', 'resolved', 'closed_not_fixed']);
    expect(resolved.choices?.flat().length).toBe(2);
  });
});
