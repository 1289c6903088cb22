/**
 * Older residents send voice messages and stickers (issue 11, P2). Whatever step they are at,
 * the bot says plainly that it cannot hear or see those yet, gives the emergency numbers for a
 * voice message, and asks the same question again; the answer that follows still counts.
 * Through the fake Telegram and Zalo servers and the real service.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Update } from 'grammy/types';
import { onboardTelegram, onboardZalo } from '../helpers/onboarding.js';
import { startWorld, type Cleanups } from '../helpers/world.js';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import type { FakeZalo } from '../fakes/fake-zalo-server.js';
import { zaloSettled, zaloText, zaloTo, type ZaloUser } from '../helpers/zalo-user.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const VOICE_VI = /^🎤 Tôi chưa nghe được tin nhắn thoại\. Mời bạn gõ chữ thay cho lời nói, hoặc gửi ảnh\. Nếu đang gặp nguy hiểm, hãy gọi ngay 113 \(công an\), 114 \(cứu hỏa, cứu nạn\), 115 \(cấp cứu\), 112 \(tìm kiếm cứu nạn\)\./;
const VOICE_EN = /^🎤 I cannot listen to voice messages yet\. Please type your message instead, or send a photo\. If you are in danger now, call 113 \(police\)/;
const STICKER_VI = /^Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video\./;
const MENU_VI = /Bạn muốn làm gì\?/;
const LANGUAGE = /Chọn ngôn ngữ \/ Choose your language:/;
const DANGER = /Có ai đang gặp nguy hiểm/;
const PICK_FROM_LIST = /chọn một mục trong danh sách|pick an item/i;

/** A voice note as Telegram sends it (Bot API `Message.voice`), or a sent audio file (`Message.audio`). */
function telegramVoice(tg: FakeTelegram, userId: number, field: 'voice' | 'audio' = 'voice'): Update {
  const update = tg.userMessage({ userId, text: 'placeholder' }) as unknown as { message: Record<string, unknown> };
  delete update.message.text;
  update.message[field] = { file_id: `${field}-${userId}`, file_unique_id: `u-${field}-${userId}`, duration: 4, mime_type: 'audio/ogg', file_size: 9_000 };
  return update as unknown as Update;
}

/** A Zalo event of the given name from this user, with a fresh message id. */
let zaloSeq = 0;
function zaloEvent(user: ZaloUser, eventName: string, extra: Record<string, unknown> = {}) {
  return {
    event_name: eventName,
    message: { from: { id: user.id, display_name: 'Bà Tư', is_bot: false }, chat: { id: user.id, chat_type: 'PRIVATE' }, message_id: `voice-test-${++zaloSeq}`, date: Date.now(), ...extra },
  };
}

/** Sends a raw Zalo update from this user and returns what the bot sent back to them once idle. */
async function zaloSend(zalo: FakeZalo, user: ZaloUser, update: unknown) {
  const since = zalo.sent.length;
  zalo.pushUpdate(update);
  await zaloSettled(zalo, 15_000);
  const calls = zalo.sent.slice(since).filter(zaloTo(user.id));
  return { calls, text: calls.map(zaloText).join('\n---\n') };
}

describe('voice messages and stickers are answered clearly in every step', () => {
  it('on Telegram: outside any step, at a choice, at the report questions, and in English', { timeout: 120_000 }, async () => {
    const { tg } = await startWorld('700333:voice-answers-tg', cleanups);
    const lan = await onboardTelegram(tg, 6101);

    // Outside any step: the voice answer, with the emergency numbers, then the menu.
    let turn = await lan.send(telegramVoice(tg, 6101));
    expect(turn.calls[0] && String(turn.calls[0].body.text)).toMatch(VOICE_VI);
    expect(turn.text).toMatch(MENU_VI);
    turn = await lan.send(telegramVoice(tg, 6101, 'audio'));
    expect(turn.text).toMatch(VOICE_VI);

    // At a choice (the language): not "pick from the list", but the same question again.
    await lan.command('/lang');
    turn = await lan.send(telegramVoice(tg, 6101));
    expect(turn.text).toMatch(VOICE_VI);
    expect(turn.text).not.toMatch(PICK_FROM_LIST);
    expect(turn.text).toMatch(LANGUAGE);
    turn = await lan.send(tg.userSticker({ userId: 6101 }));
    expect(turn.text).toMatch(STICKER_VI);
    expect(turn.text).toMatch(LANGUAGE);
    // The step was kept: the next tap answers it.
    turn = await lan.press('Tiếng Việt');
    expect(turn.text).toMatch(MENU_VI);

    // In the report: the danger question, and the description step (which takes text), asked again.
    await lan.command('/report');
    turn = await lan.send(telegramVoice(tg, 6101));
    expect(turn.text).toMatch(VOICE_VI);
    expect(turn.text).toMatch(DANGER);
    await lan.press('Không');
    await lan.press(/ồn ào|tiếng ồn/);
    turn = await lan.send(telegramVoice(tg, 6101));
    expect(turn.text).toMatch(VOICE_VI);
    expect(turn.text).not.toMatch(/Tin nhắn quá dài|chưa hiểu/);
    // Typing it instead is taken as the description.
    turn = await lan.type('Karaoke rất to sau 23h');
    expect(turn.text).toMatch(/ảnh/);

    // In English.
    await lan.command('/cancel');
    await lan.command('/lang');
    await lan.press('English');
    turn = await lan.send(telegramVoice(tg, 6101));
    expect(turn.text).toMatch(VOICE_EN);
    expect(turn.text).toMatch(/What would you like to do\?/);
  });

  it('on Zalo: voice and audio events, stickers at a choice, and the answer after them', { timeout: 120_000 }, async () => {
    const { zalo } = await startWorld('700334:voice-answers-zalo', cleanups);
    const tu = await onboardZalo(zalo, 'zalo-voice-tu', 'Bà Tư');

    let turn = await zaloSend(zalo, tu, zaloEvent(tu, 'message.voice.received', { url: 'https://example.org/voice.aac' }));
    expect(turn.calls.length).toBeGreaterThan(0);
    expect(String(turn.calls[0]!.body.text)).toMatch(VOICE_VI);
    expect(turn.text).toMatch(MENU_VI);
    turn = await zaloSend(zalo, tu, zaloEvent(tu, 'message.audio.received', { url: 'https://example.org/voice.m4a' }));
    expect(turn.text).toMatch(VOICE_VI);
    // A sticker outside any step: the Zalo wording (type, or send a photo: Zalo sends no locations).
    turn = await zaloSend(zalo, tu, zaloEvent(tu, 'message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(/^Tôi chưa nghe được tin nhắn thoại và chưa xem được sticker, video\. Mời bạn gõ chữ hoặc gửi ảnh\./);

    // At the report's danger question: a voice message, then a sticker; the question each time; then "2" answers it.
    await tu.type('/report');
    turn = await zaloSend(zalo, tu, zaloEvent(tu, 'message.voice.received', { url: 'https://example.org/voice.aac' }));
    expect(turn.text).toMatch(VOICE_VI);
    expect(turn.text).toMatch(DANGER);
    expect(turn.text).not.toMatch(PICK_FROM_LIST);
    turn = await zaloSend(zalo, tu, zaloEvent(tu, 'message.sticker.received', { sticker: 'bfe458bf64fa8da4d4eb' }));
    expect(turn.text).toMatch(STICKER_VI);
    expect(turn.text).toMatch(DANGER);
    turn = await tu.choose('Không');
    expect(turn.text).toMatch(/Sự việc thuộc loại nào/);
  });
});
