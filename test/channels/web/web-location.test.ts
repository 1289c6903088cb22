import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';
import { createWebClient, texts } from '../../helpers/web-client.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('web chat location', () => {
  it('offers the browser location at the report location step and files the pin with the case', async () => {
    t = await startTestApp();
    const web = createWebClient(t.baseUrl);
    await web.say('/start');
    await web.say('1');
    await web.say('1');
    await web.say('2');
    await web.pick(await web.say('KMA234'), 'Không, giữ kín');
    let r = await web.say('/report');
    r = await web.pick(r, 'Không');
    r = await web.pick(r, 'Giao thông');
    r = await web.say('Ổ gà lớn giữa đường Kim Mã');
    r = await web.pick(r, 'Bỏ qua');
    const prompt = r.find((m) => /Sự việc xảy ra ở đâu/.test(m.text));
    expect(prompt?.askLocation).toBe('📍 Gửi vị trí hiện tại (tôi đang ở đó)');

    const bad = await web.post({ location: { latitude: 123, longitude: 'x' } });
    expect(bad.status).toBe(400);
    const ok = await web.post({ location: { latitude: 21.0315, longitude: 105.8212 } });
    expect(ok.status).toBe(200);
    r = (await web.fetchNew()).messages;
    expect(texts(r)).toMatch(/ẩn danh hay kèm tên/);
    r = await web.pick(r, 'Kèm tên');
    expect(texts(r)).toMatch(/vị trí đã gửi \(21\.03150, 105\.82120\)/);
    r = await web.pick(r, 'Gửi phản ánh');
    const filed = await t.app.db.case.findFirstOrThrow();
    expect([filed.latitude, filed.longitude]).toEqual([21.0315, 105.8212]);
  });
});
