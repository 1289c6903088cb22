import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { createUpdateDeduplicator, parseZaloUpdate, zaloToInbound } from '../../../src/channels/zalo/to-inbound.js';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/zalo/${name}.json`, import.meta.url), 'utf8'));
}

function inbound(name: string) {
  const update = parseZaloUpdate(fixture(name));
  expect(update).toBeDefined();
  return zaloToInbound(update!);
}

const SENDER = '6ede9afa66b88fe6d6a9';

describe('parseZaloUpdate', () => {
  it('reads the flat webhook shape and the documented envelope alike', () => {
    const flat = parseZaloUpdate(fixture('text-flat'));
    const wrapped = parseZaloUpdate(fixture('text-envelope'));
    expect(flat).toEqual(wrapped);
    expect(flat).toEqual({
      event_name: 'message.text.received',
      message: {
        message_id: '2d758cb5e222177a4e35',
        date: 1750316131602,
        from: { id: SENDER, display_name: 'Nguyễn Văn An', is_bot: false },
        chat: { id: SENDER, chat_type: 'PRIVATE' },
        text: 'Xin chào tổ dân phố',
      },
    });
  });

  it('reads the image URL from photo_url (live) and photo (docs)', () => {
    expect(parseZaloUpdate(fixture('image-photo-url'))?.message?.photo_url).toBe(
      'https://photo-stal-9.zdn.vn/1/2/3/a1b2c3d4e5f6.jpg',
    );
    expect(parseZaloUpdate(fixture('image-photo'))?.message?.photo_url).toBe(
      'https://photo-stal-9.zdn.vn/4/5/6/f6e5d4c3b2a1.jpg',
    );
  });

  it('treats a date below 1e12 as seconds and one above as milliseconds', () => {
    expect(parseZaloUpdate(fixture('date-seconds'))?.message?.date).toBe(1750316131000);
    expect(parseZaloUpdate(fixture('text-flat'))?.message?.date).toBe(1750316131602);
  });

  it('falls back to the older from.name', () => {
    expect(parseZaloUpdate(fixture('older-from-name'))?.message?.from?.display_name).toBe('Trần Thị Bình');
  });

  it('keeps an update without a message and unknown event names', () => {
    expect(parseZaloUpdate(fixture('unsupported-no-message'))).toEqual({ event_name: 'message.unsupported.received' });
    expect(parseZaloUpdate(fixture('unknown-event'))?.event_name).toBe('message.location.received');
  });

  it('never throws on garbage and answers undefined', () => {
    const hostile = Object.defineProperty({}, 'event_name', {
      get() {
        throw new Error('boom');
      },
    });
    const garbage: unknown[] = [
      null,
      undefined,
      [],
      [{ event_name: 'message.text.received' }],
      'x',
      42,
      true,
      {},
      { event_name: 1 },
      { event_name: '' },
      { ok: true },
      { ok: true, result: null },
      { ok: true, result: [] },
      { ok: false, error_code: 408, description: 'Request timeout' },
      hostile,
    ];
    for (const body of garbage) {
      expect(() => parseZaloUpdate(body)).not.toThrow();
      expect(parseZaloUpdate(body)).toBeUndefined();
    }
  });

  it('survives a message of the wrong types without throwing', () => {
    const odd = [
      { event_name: 'message.text.received', message: 'hi' },
      { event_name: 'message.text.received', message: { from: 'x', chat: 5, date: 'soon', text: 7 } },
      { event_name: 'message.text.received', message: { from: { id: null }, photo: { url: 3 } } },
    ];
    for (const body of odd) {
      const update = parseZaloUpdate(body);
      expect(update?.event_name).toBe('message.text.received');
      expect(zaloToInbound(update!)).toBeUndefined(); // no sender to answer
    }
  });

  it('accepts numeric ids by turning them into strings', () => {
    const update = parseZaloUpdate({
      event_name: 'message.text.received',
      message: { from: { id: 12345 }, chat: { id: 12345, chat_type: 'private' }, message_id: 9, text: 'hi' },
    });
    expect(update?.message?.from?.id).toBe('12345');
    expect(update?.message?.chat).toEqual({ id: '12345', chat_type: 'PRIVATE' });
    expect(update?.message?.message_id).toBe('9');
  });
});

describe('zaloToInbound', () => {
  it('maps text to kind text with the sender, chat and update id', () => {
    expect(inbound('text-flat')).toEqual({
      channel: 'zalo',
      accountId: SENDER,
      chatId: SENDER,
      chatType: 'private',
      updateId: 'message.text.received:2d758cb5e222177a4e35',
      displayName: 'Nguyễn Văn An',
      kind: 'text',
      text: 'Xin chào tổ dân phố',
    });
    expect(inbound('text-envelope')).toEqual(inbound('text-flat'));
  });

  it('maps "/join TDP-07" to a command', () => {
    expect(inbound('command')).toMatchObject({ kind: 'command', command: 'join', args: 'TDP-07' });
  });

  it('keeps text that only looks like a command as text', () => {
    const update = parseZaloUpdate({
      event_name: 'message.text.received',
      message: { from: { id: 'u1' }, chat: { id: 'u1', chat_type: 'PRIVATE' }, message_id: 'm1', text: '/ hỏi' },
    })!;
    expect(zaloToInbound(update)).toMatchObject({ kind: 'text', text: '/ hỏi' });
  });

  it('replies to the group in a group chat', () => {
    expect(inbound('group-text')).toMatchObject({ chatType: 'group', chatId: 'a41f93c0d8e2b7f65c13', accountId: SENDER });
  });

  it('maps images with photo_url or photo to kind photo', () => {
    expect(inbound('image-photo-url')).toMatchObject({
      kind: 'photo',
      photo: { url: 'https://photo-stal-9.zdn.vn/1/2/3/a1b2c3d4e5f6.jpg' },
      caption: 'Ổ gà trước số 12',
      updateId: 'message.image.received:5b3e8f0a2c4d6e1f9a7b',
    });
    const docsShape = inbound('image-photo');
    expect(docsShape).toMatchObject({ kind: 'photo', photo: { url: 'https://photo-stal-9.zdn.vn/4/5/6/f6e5d4c3b2a1.jpg' } });
    expect(docsShape).not.toHaveProperty('caption');
  });

  it('maps stickers, unsupported messages and unknown events to kind unsupported', () => {
    expect(inbound('sticker')).toMatchObject({ kind: 'unsupported', what: 'sticker', accountId: SENDER });
    expect(inbound('unsupported-with-sender')).toMatchObject({ kind: 'unsupported', what: 'unsupported' });
    expect(inbound('unknown-event')).toMatchObject({
      kind: 'unsupported',
      what: 'location',
      updateId: 'message.location.received:8c7b6a5f4e3d2c1b0a9f',
    });
    const odd = parseZaloUpdate({ event_name: 'oa.follow', message: { from: { id: 'u1' } } })!;
    expect(zaloToInbound(odd)).toMatchObject({ kind: 'unsupported', what: 'oa.follow', chatId: 'u1' });
  });

  it('answers undefined when there is nobody to reply to', () => {
    expect(inbound('unsupported-no-message')).toBeUndefined();
  });

  it('uses the older from.name as displayName', () => {
    expect(inbound('older-from-name')).toMatchObject({ displayName: 'Trần Thị Bình', kind: 'text', text: 'Chào bot' });
  });
});

describe('createUpdateDeduplicator', () => {
  it('reports a key seen within the TTL and forgets it afterwards', () => {
    let clock = 1_000_000;
    const dedup = createUpdateDeduplicator(10 * 60 * 1000, () => clock);
    expect(dedup.seen('message.text.received:a')).toBe(false);
    expect(dedup.seen('message.text.received:a')).toBe(true);
    expect(dedup.seen('message.text.received:b')).toBe(false);
    clock += 10 * 60 * 1000 - 1;
    expect(dedup.seen('message.text.received:a')).toBe(true);
    clock += 1;
    expect(dedup.seen('message.text.received:a')).toBe(false); // expired, remembered afresh
    expect(dedup.seen('message.text.received:a')).toBe(true);
  });

  it('prunes expired entries so memory stays bounded', () => {
    let clock = 0;
    const dedup = createUpdateDeduplicator(1000, () => clock);
    for (let i = 0; i < 500; i++) {
      dedup.seen(`k${i}`);
      clock += 10; // 100 keys per TTL window
    }
    expect(dedup.size).toBeLessThanOrEqual(101);
    expect(dedup.seen('k499')).toBe(true);
    expect(dedup.seen('k0')).toBe(false);
  });

  it('caps the number of entries under a flood', () => {
    const dedup = createUpdateDeduplicator(60_000, () => 5, 50);
    for (let i = 0; i < 1000; i++) dedup.seen(`k${i}`);
    expect(dedup.size).toBeLessThanOrEqual(50);
    expect(dedup.seen('k999')).toBe(true);
  });
});
