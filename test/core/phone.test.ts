import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient, texts } from '../helpers/web-client.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { normalisePhone } from '../../src/core/services/people.service.js';
import { renderTelegram } from '../../src/channels/telegram/render.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

async function onboard(baseUrl: string) {
  const web = createWebClient(baseUrl);
  await web.say('/start');
  await web.say('1');
  await web.say('1');
  await web.say('2');
  await web.say('KMA234');
  return web;
}

describe('phone number', () => {
  it('reads Vietnamese and international numbers as people type them', () => {
    expect(normalisePhone('0912 345 678')).toBe('+84912345678');
    expect(normalisePhone('+84 91-234-5678')).toBe('+84912345678');
    expect(normalisePhone('84912345678')).toBe('+84912345678');
    expect(normalisePhone('12345')).toBeUndefined();
    expect(normalisePhone('gọi tôi')).toBeUndefined();
  });

  it('asks for it with Telegram’s contact button, other choices as text buttons', () => {
    const [call] = renderTelegram({ text: 'Số?', askContact: '📞 Chia sẻ', choices: [[{ id: 'nav:back', label: '⬅️ Quay lại' }]] });
    expect(call).toMatchObject({ method: 'sendMessage', reply_markup: { keyboard: [[{ text: '📞 Chia sẻ', request_contact: true }], [{ text: '⬅️ Quay lại' }]], one_time_keyboard: true } });
  });

  it('is stored from settings, shown in "what is stored", shown to leaders only where the member shares, and removable', async () => {
    t = await startTestApp();
    const member = await onboard(t.baseUrl);
    const leader = await onboard(t.baseUrl);
    await makeLeader(t.app, (await personOf(t.app, 'web', leader.session)).id, 'HN-GV-01');

    let r = await member.say('/settings');
    r = await member.pick(r, 'Số điện thoại của tôi');
    expect(texts(r)).toMatch(/Số điện thoại đang lưu: không có/);
    r = await member.say('gọi cho tôi');
    expect(texts(r)).toMatch(/Đó không phải số điện thoại/);
    r = await member.say('0912 345 678');
    expect(texts(r)).toMatch(/Đã lưu số điện thoại \+84912345678/);
    r = await member.pick(r, 'Hệ thống lưu gì');
    expect(texts(r)).toMatch(/Số điện thoại: \+84912345678/);

    const membersSeenByLeader = async () => {
      let l = await leader.say('/groups');
      l = await leader.pick(l, 'Tổ dân phố số 1');
      l = await leader.pick(l, 'Thành viên');
      // Members are listed as choices: read their labels too.
      return l.map((m) => [m.text, ...(m.choices?.flat().map((c) => c.label) ?? [])].join('\n')).join('\n');
    };
    expect(await membersSeenByLeader()).not.toMatch(/\+84912345678/);
    r = await member.say('/groups');
    r = await member.pick(r, 'Tổ dân phố số 1');
    r = await member.pick(r, 'Hiện tên của tôi');
    expect(await membersSeenByLeader()).toMatch(/\+84912345678/);

    r = await member.say('/settings');
    r = await member.pick(r, 'Số điện thoại của tôi');
    r = await member.pick(r, 'Xóa số điện thoại');
    expect(texts(r)).toMatch(/Đã xóa số điện thoại/);
    expect((await personOf(t.app, 'web', member.session)).phone).toBeNull();
  });
});
