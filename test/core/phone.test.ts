import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient, texts } from '../helpers/web-client.js';
import { makeLeader, personOf } from '../helpers/roles.js';
import { normalisePhone } from '../../src/core/services/people.service.js';
import { renderTelegram } from '../../src/channels/telegram/render.js';
import { formatDate, formatPhone } from '../../src/core/format.js';

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
  await web.pick(await web.say('KMA234'), 'Không, giữ kín');
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

  it('is shown back as people write it, not as stored (+84...)', () => {
    expect(formatPhone('+84912345678')).toBe('0912 345 678');
    expect(formatPhone(normalisePhone('0912.345.678')!)).toBe('0912 345 678');
    expect(formatPhone('0912345678')).toBe('0912 345 678'); // kept as typed by an older version
    expect(formatPhone('+842838221234')).toBe('028 3822 1234'); // TP.HCM landline
    expect(formatPhone('+842523821234')).toBe('0252 382 1234'); // Bình Thuận landline
    expect(formatPhone('+4915112345678')).toBe('+4915112345678'); // another country: as stored
  });

  it('dates where the time of day does not matter are the day only, in Vietnam time', () => {
    expect(formatDate(new Date('2026-12-01T20:36:00+07:00'), 'vi')).toBe('01/12/2026');
    expect(formatDate(new Date('2026-11-30T17:30:00Z'), 'vi')).toBe('01/12/2026'); // already 1 December in Vietnam
    expect(formatDate(new Date('2026-12-01T20:36:00+07:00'), 'en')).toBe('01/12/2026');
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
    // Shown back as the person writes it; kept in the international form.
    expect(texts(r)).toMatch(/Đã lưu số điện thoại 0912 345 678\./);
    expect(texts(r)).not.toMatch(/\+84/);
    expect((await personOf(t.app, 'web', member.session)).phone).toBe('+84912345678');
    r = await member.pick(r, 'Hệ thống lưu gì');
    expect(texts(r)).toMatch(/• Số điện thoại: 0912 345 678\n/);
    // Since when: the day only ("từ ngày 01/12/2026"), no time of day.
    expect(texts(r)).toMatch(/• Dùng hệ thống từ ngày \d{2}\/\d{2}\/\d{4}\n/);
    // The web chat is named in words, like everywhere else in Vietnamese.
    expect(texts(r)).toMatch(/• Tài khoản nhắn tin: trang web\n/);
    r = await member.pick(r, 'Số điện thoại của tôi');
    expect(texts(r)).toMatch(/Số điện thoại đang lưu: 0912 345 678/);
    r = await member.pick(r, 'Quay lại');

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
