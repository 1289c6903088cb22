import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, tempDir, type TestApp } from '../../helpers/test-app.js';
import { createWebClient, texts } from '../../helpers/web-client.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

async function start(dir?: string) {
  const t = await startTestApp({ dir });
  running.push(t);
  return t;
}

describe('web chat onboarding', () => {
  it('walks language, privacy notice and the area tree to a residential group, in Vietnamese by default', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    let replies = await web.say('/start');
    expect(texts(replies)).toMatch(/trợ lý tự động/);
    replies = await web.pick(replies, 'Tiếng Việt');
    expect(texts(replies)).toMatch(/hệ thống tự động/);
    expect(texts(replies)).toMatch(/Cài đặt → Xóa dữ liệu của tôi/);
    replies = await web.pick(replies, 'Tôi đồng ý');
    replies = await web.pick(replies, 'Chọn theo tỉnh');
    expect(texts(replies)).toMatch(/Chọn tỉnh\/thành phố/);
    replies = await web.pick(replies, 'Hà Nội');
    expect(texts(replies)).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    replies = await web.pick(replies, 'Giảng Võ');
    expect(texts(replies)).toMatch(/Chọn khu dân cư \(tổ dân phố, khu phố, thôn\)/);
    replies = await web.pick(replies, 'Tổ dân phố số 1');
    expect(texts(replies)).toMatch(/Bạn có muốn tổ trưởng, tổ phó Tổ dân phố số 1 thấy tên của bạn không\?/);
    replies = await web.pick(replies, 'Có, hiện tên tôi');
    expect(texts(replies)).toMatch(/Bạn đã tham gia Tổ dân phố số 1 \(Phường Giảng Võ\)/);
    expect(texts(replies)).toMatch(/Bạn muốn làm gì\?/);

    const person = await t.app.db.person.findFirstOrThrow({ include: { memberships: true } });
    expect(person.onboardedAt).not.toBeNull();
    expect(person.memberships).toHaveLength(1);
    expect(person.memberships[0]!.state).toBe('active');
    expect(person.memberships[0]!.shareContact).toBe(true);
  });

  it('speaks English after choosing it, and numbers typed work like taps', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    let replies = await web.say('2');
    expect(texts(replies)).toMatch(/automated system/);
    replies = await web.say('1');
    expect(texts(replies)).toMatch(/Which residential group/);
    replies = await web.say('2');
    expect(texts(replies)).toMatch(/invite code/);
    replies = await web.say('zzzz');
    expect(texts(replies)).toMatch(/"zzzz" is not valid/);
    replies = await web.say('hbd-678');
    expect(texts(replies)).toMatch(/Do you want the leaders and deputies of Tổ dân phố số 5 to see your name\?/);
    replies = await web.say('2'); // 🕶 No, keep it private
    expect(texts(replies)).toMatch(/You have joined Tổ dân phố số 5/);
    expect((await web.fetchNew()).locale).toBe('en');
  });

  it('resumes onboarding after a restart, at the step where the person stopped', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const web = createWebClient(first.baseUrl);
    await web.say('/start');
    let replies = await web.say('1');
    replies = await web.pick(replies, 'Tôi đồng ý');
    replies = await web.pick(replies, 'Chọn theo tỉnh');
    replies = await web.pick(replies, 'Hà Nội');
    expect(texts(replies)).toMatch(/Chọn phường thuộc Thành phố Hà Nội/);
    await first.stop();

    const second = await start(dir);
    const again = createWebClient(second.baseUrl, web.session);
    await again.fetchNew();
    // The numbered list offered before the restart still answers: 1 = Phường Ba Đình.
    replies = await again.say('1');
    expect(texts(replies)).toMatch(/Chọn khu dân cư .* thuộc Phường Ba Đình/);
  });

  it('answers bad input clearly and keeps the step', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    let replies = await web.say('xin chào');
    expect(texts(replies)).toMatch(/Mời bạn chọn một mục trong danh sách/);
    expect(texts(replies)).toMatch(/Bạn muốn dùng ngôn ngữ nào/);
    replies = await web.say('7');
    expect(texts(replies)).toMatch(/Không có mục số 7/);
    replies = await web.say('/nosuchthing');
    expect(texts(replies)).toMatch(/Không có lệnh \/nosuchthing/);
    replies = await web.say('x'.repeat(5000));
    expect(texts(replies)).toMatch(/Mời bạn chọn một mục/);
    expect(texts(replies).length).toBeLessThan(2000);
    // A forged choice that was never offered is not accepted.
    replies = await web.choose('group:not-offered');
    expect(texts(replies)).toMatch(/Mời bạn chọn một mục trong danh sách/);
    replies = await web.say('/cancel');
    expect(texts(replies)).toMatch(/Đã hủy/);
    replies = await web.say('/help');
    expect(texts(replies)).toMatch(/113 \(công an\), 114 \(cứu hỏa, cứu nạn\), 115 \(cấp cứu\)/);
  });

  it('refuses malformed requests with a 4xx and keeps running', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    await web.start();
    const json = { 'content-type': 'application/json', cookie: web.cookie! };
    const bad = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: json, body: '{not json' });
    expect(bad.status).toBe(400);
    const noId = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: json, body: JSON.stringify({ text: 'hi' }) });
    expect(noId.status).toBe(400);
    const noSession = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'abcdefgh12', text: 'hi' }) });
    expect(noSession.status).toBe(401);
    const notJson = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: { cookie: web.cookie! }, body: JSON.stringify({ id: 'abcdefgh12', text: 'hi' }) });
    expect(notJson.status).toBe(415);
    const huge = await fetch(`${t.baseUrl}/api/web/messages`, { method: 'POST', headers: json, body: 'x'.repeat(200_000) });
    expect(huge.status).toBe(413);
    const unknown = await fetch(`${t.baseUrl}/api/web/nothing-here`);
    expect(unknown.status).toBe(404);
    const health = await fetch(`${t.baseUrl}/healthz`);
    expect(health.status).toBe(200);
  });
});
