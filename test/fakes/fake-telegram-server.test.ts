/**
 * Proves the fake Telegram server behaves like Telegram for what our bot
 * relies on, driving it through grammY's real client so serialisation
 * (JSON and multipart), error mapping and polling are exercised for real.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bot, GrammyError, InlineKeyboard, InputFile, webhookCallback } from 'grammy';
import { FakeTelegram, TINY_JPEG, loadApiReference, startFakeTelegram } from './fake-telegram-server.js';

const USER = 4242;

let fake: FakeTelegram;
let bot: Bot;

function newBot(f: FakeTelegram = fake, token = f.token): Bot {
  return new Bot(token, { client: { apiRoot: f.apiRoot } });
}

/** Runs `call` expecting a GrammyError and returns it. */
async function grammyError(call: Promise<unknown>): Promise<GrammyError> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(GrammyError);
    return err as GrammyError;
  }
  throw new Error('expected the call to be refused');
}

/** Raw API access for requests grammY's types would not let us write. */
function raw(b: Bot): Record<string, (payload?: object) => Promise<unknown>> {
  return b.api.raw as unknown as Record<string, (payload?: object) => Promise<unknown>>;
}

beforeEach(async () => {
  fake = await startFakeTelegram();
  bot = newBot();
});

afterEach(async () => {
  if (bot.isRunning()) await bot.stop();
  await fake.close();
});

describe('basic API', () => {
  it('answers getMe with the bot info', async () => {
    const me = await bot.api.getMe();
    expect(me).toEqual(fake.botInfo);
    expect(me).toMatchObject({ id: 123456, is_bot: true, can_join_groups: true, has_main_web_app: false });
    expect(fake.calls.map((c) => c.method)).toEqual(['getMe']);
  });

  it('sends a message with an inline keyboard and echoes a realistic Message', async () => {
    const keyboard = new InlineKeyboard().text('Yes', 'vote:yes').url('Docs', 'https://example.org');
    const first = await bot.api.sendMessage(USER, 'Hello', { reply_markup: keyboard });
    const second = await bot.api.sendMessage(USER, 'Again');
    expect(first).toMatchObject({
      message_id: 1,
      chat: { id: USER, type: 'private' },
      from: { id: fake.botInfo.id, is_bot: true },
      text: 'Hello',
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'vote:yes' }, { text: 'Docs', url: 'https://example.org' }]] },
    });
    expect(typeof first.date).toBe('number');
    expect(second.message_id).toBe(2);
    expect(fake.messagesTo(USER)).toEqual(['Hello', 'Again']);
    expect(fake.sent).toHaveLength(2);
    expect(fake.refusals).toEqual([]);
  });

  it('edits a message, and refuses an edit that changes nothing', async () => {
    const sent = await bot.api.sendMessage(USER, 'Step 1', { reply_markup: new InlineKeyboard().text('Next', 'next') });
    const edited = await bot.api.editMessageText(USER, sent.message_id, 'Step 2');
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'Step 2' });
    expect(edited).not.toHaveProperty('reply_markup'); // omitted markup removes the keyboard
    expect(fake.messagesTo(USER)).toEqual(['Step 1', 'Step 2']);
    const err = await grammyError(bot.api.editMessageText(USER, sent.message_id, 'Step 2'));
    expect(err.description).toMatch(/^Bad Request: message is not modified/);
  });

  it('returns true for simple methods and tracks the webhook', async () => {
    expect(await bot.api.deleteMessage(USER, 1)).toBe(true);
    expect(await bot.api.setChatMenuButton({ menu_button: { type: 'commands' } })).toBe(true);
    expect(await bot.api.setWebhook('http://127.0.0.1:9/hook', { secret_token: 's3cret' })).toBe(true);
    expect(await bot.api.getWebhookInfo()).toMatchObject({ url: 'http://127.0.0.1:9/hook', has_custom_certificate: false, pending_update_count: 0 });
    expect(await bot.api.deleteWebhook()).toBe(true);
    expect((await bot.api.getWebhookInfo()).url).toBe('');
    expect(await bot.api.sendChatAction(USER, 'typing')).toBe(true);
    expect(await bot.api.setMyCommands([{ command: 'start', description: 'Start' }])).toBe(true);
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }]);
    expect(fake.refusals).toEqual([]);
  });

  it('serves files returned by getFile', async () => {
    const file = await bot.api.getFile('user-photo-1');
    expect(file).toMatchObject({ file_id: 'user-photo-1', file_path: 'photos/user-photo-1.jpg', file_size: TINY_JPEG.length });
    const res = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path}`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff])); // JPEG magic
    expect((await fetch(`${fake.apiRoot}/file/botWRONG/${file.file_path}`)).status).toBe(404);
  });
});

describe('refusals like Telegram', () => {
  it('unknown method -> 404', async () => {
    const err = await grammyError(raw(bot).sendTelepathy!({ chat_id: USER }));
    expect(err.error_code).toBe(404);
    expect(err.description).toBe('Not Found: method not found');
    expect(fake.refusals).toEqual([expect.objectContaining({ method: 'sendTelepathy', error_code: 404 })]);
  });

  it('wrong token -> 401', async () => {
    const err = await grammyError(newBot(fake, '999:wrong').api.getMe());
    expect(err.error_code).toBe(401);
    expect(err.description).toBe('Unauthorized');
  });

  it('missing required field -> 400 "<field> is required"', async () => {
    const err = await grammyError(raw(bot).sendMessage!({ chat_id: USER }));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe('Bad Request: text is required');
    const err2 = await grammyError(raw(bot).answerCallbackQuery!({ text: 'hi' }));
    expect(err2.description).toBe('Bad Request: callback_query_id is required');
  });

  it('message text too long / empty', async () => {
    const tooLong = await grammyError(bot.api.sendMessage(USER, 'x'.repeat(4097)));
    expect(tooLong.description).toBe('Bad Request: message is too long');
    const empty = await grammyError(bot.api.sendMessage(USER, '   '));
    expect(empty.description).toBe('Bad Request: message text is empty');
    const editTooLong = await grammyError(bot.api.editMessageText(USER, 1, 'y'.repeat(5000)));
    expect(editTooLong.description).toBe('Bad Request: message is too long');
    // exactly at the limit is fine, and HTML tags do not count towards it
    await bot.api.sendMessage(USER, 'x'.repeat(4096));
    await bot.api.sendMessage(USER, `<b>${'x'.repeat(4090)}</b>`, { parse_mode: 'HTML' });
    expect(fake.refusals).toHaveLength(3);
  });

  it('refuses markup Telegram cannot parse', async () => {
    const html = await grammyError(bot.api.sendMessage(USER, '<div>hi</div>', { parse_mode: 'HTML' }));
    expect(html.description).toMatch(/^Bad Request: can't parse entities: Unsupported start tag "div"/);
    const md = await grammyError(bot.api.sendMessage(USER, 'Done.', { parse_mode: 'MarkdownV2' }));
    expect(md.description).toBe("Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
    await bot.api.sendMessage(USER, '*Done*\\. See [docs](https://example.org/a-b.c)', { parse_mode: 'MarkdownV2' });
  });

  it('caption over 1024 characters', async () => {
    const err = await grammyError(bot.api.sendPhoto(USER, 'some-file-id', { caption: 'c'.repeat(1025) }));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe('Bad Request: message caption is too long');
  });

  it('callback_data over 64 bytes (UTF-8, not characters)', async () => {
    const data = 'é'.repeat(33); // 33 characters, 66 bytes
    const err = await grammyError(bot.api.sendMessage(USER, 'pick', { reply_markup: new InlineKeyboard().text('A', data) }));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    await bot.api.sendMessage(USER, 'pick', { reply_markup: new InlineKeyboard().text('A', 'é'.repeat(32)) });
  });

  it('inline button without text or without an action', async () => {
    const noText = await grammyError(
      raw(bot).sendMessage!({ chat_id: USER, text: 'x', reply_markup: { inline_keyboard: [[{ callback_data: 'a' }]] } }),
    );
    expect(noText.error_code).toBe(400);
    expect(noText.description).toMatch(/Field "text" must be of type String/);
    const noAction = await grammyError(
      raw(bot).sendMessage!({ chat_id: USER, text: 'x', reply_markup: { inline_keyboard: [[{ text: 'label only' }]] } }),
    );
    expect(noAction.error_code).toBe(400);
    expect(noAction.description).toMatch(/Text buttons are unallowed in the inline keyboard/);
  });

  it('answerCallbackQuery text over 200 characters', async () => {
    const err = await grammyError(bot.api.answerCallbackQuery('123', { text: 'a'.repeat(201) }));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe('Bad Request: MESSAGE_TOO_LONG');
    expect(await bot.api.answerCallbackQuery('123', { text: 'a'.repeat(200) })).toBe(true);
  });

  it('setMyCommands: command name, description length, count', async () => {
    const badName = await grammyError(bot.api.setMyCommands([{ command: 'Start', description: 'Start' }]));
    expect(badName.description).toBe('Bad Request: BOT_COMMAND_INVALID');
    const tooLongName = await grammyError(bot.api.setMyCommands([{ command: 'a'.repeat(33), description: 'x' }]));
    expect(tooLongName.description).toBe('Bad Request: BOT_COMMAND_INVALID');
    const noDescription = await grammyError(bot.api.setMyCommands([{ command: 'start', description: '' }]));
    expect(noDescription.description).toBe('Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
    const longDescription = await grammyError(bot.api.setMyCommands([{ command: 'start', description: 'd'.repeat(257) }]));
    expect(longDescription.description).toBe('Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
    const many = Array.from({ length: 101 }, (_, i) => ({ command: `c${i}`, description: 'x' }));
    const tooMany = await grammyError(bot.api.setMyCommands(many));
    expect(tooMany.description).toBe('Bad Request: BOT_COMMANDS_TOO_MUCH');
    expect(fake.refusals.map((r) => r.error_code)).toEqual([400, 400, 400, 400, 400]);
  });

  it('refuses an invalid chat id and getUpdates while a webhook is set', async () => {
    const err = await grammyError(raw(bot).sendMessage!({ chat_id: 'undefined', text: 'x' }));
    expect(err.description).toBe('Bad Request: chat not found');
    await bot.api.setWebhook('http://127.0.0.1:9/hook');
    const conflict = await grammyError(bot.api.getUpdates());
    expect(conflict.error_code).toBe(409);
  });

  it('records every refusal with its body', async () => {
    await grammyError(bot.api.sendMessage(USER, ''));
    expect(fake.refusals).toEqual([
      { method: 'sendMessage', body: { chat_id: USER, text: '' }, error_code: 400, description: 'Bad Request: message text is empty' },
    ]);
    expect(fake.calls).toEqual([]);
    expect(() => fake.assertNoRefusals()).toThrow(/message text is empty/);
  });
});

describe('multipart uploads', () => {
  it('accepts a photo upload from a Buffer and makes it downloadable', async () => {
    const bytes = Buffer.concat([TINY_JPEG, Buffer.from('extra')]);
    const message = await bot.api.sendPhoto(USER, new InputFile(bytes, 'report.jpg'), {
      caption: 'Pothole on Street 5',
      reply_markup: new InlineKeyboard().text('Confirm', 'confirm:1'),
    });
    expect(fake.refusals).toEqual([]);
    const call = fake.calls.at(-1)!;
    expect(call.method).toBe('sendPhoto');
    expect(call.body.photo).toEqual({ filename: 'report.jpg', size: bytes.length });
    // form fields are normalised to what a JSON body would contain
    expect(call.body.chat_id).toBe(USER);
    expect(call.body.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Confirm', callback_data: 'confirm:1' }]] });
    expect(message.caption).toBe('Pothole on Street 5');
    expect(message.reply_markup?.inline_keyboard[0]?.[0]).toMatchObject({ callback_data: 'confirm:1' });
    expect(fake.messagesTo(USER)).toEqual(['Pothole on Street 5']);

    const largest = message.photo!.at(-1)!;
    const file = await bot.api.getFile(largest.file_id);
    const res = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it('validates multipart fields too (reply_markup arrives as a JSON string)', async () => {
    const err = await grammyError(
      bot.api.sendPhoto(USER, new InputFile(TINY_JPEG), { reply_markup: new InlineKeyboard().text('A', 'x'.repeat(65)) }),
    );
    expect(err.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    const caption = await grammyError(bot.api.sendPhoto(USER, new InputFile(TINY_JPEG), { caption: 'c'.repeat(1025) }));
    expect(caption.description).toBe('Bad Request: message caption is too long');
  });
});

describe('long polling', () => {
  it('delivers a pushed message to a handler and stops promptly', async () => {
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    const running = bot.start();
    await fake.waitFor((c) => c.method === 'deleteWebhook');
    await fake.pushUpdate(fake.userMessage({ userId: USER, text: 'hello', firstName: 'Lan' }));
    const reply = await fake.waitForText(USER, 'echo: hello');
    expect(reply.body.chat_id).toBe(USER);

    const started = Date.now();
    await bot.stop();
    await running;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fake.pendingUpdates).toEqual([]); // stop() confirmed the offset
    expect(fake.refusals).toEqual([]);
  });

  it('holds getUpdates until an update arrives, honours offset and timeout', async () => {
    const t0 = Date.now();
    const held = bot.api.getUpdates({ timeout: 10 });
    setTimeout(() => void fake.pushUpdate(fake.userMessage({ userId: USER, text: 'ping' })), 100);
    const updates = await held;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(updates).toHaveLength(1);
    const id = updates[0]!.update_id;

    // not confirmed yet: returned again
    expect((await bot.api.getUpdates({ offset: id })).map((u) => u.update_id)).toEqual([id]);
    // confirmed by a higher offset, then an empty answer after the timeout
    const t1 = Date.now();
    expect(await bot.api.getUpdates({ offset: id + 1, timeout: 1 })).toEqual([]);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(900);
    expect(fake.pendingUpdates).toEqual([]);
  });

  it('drops update types the bot did not ask for, like Telegram', async () => {
    await fake.pushUpdate({
      chat_member: { chat: { id: -100, type: 'group', title: 'G' } },
    } as never);
    expect(await bot.api.getUpdates()).toEqual([]);
    expect(fake.droppedUpdates).toHaveLength(1);
  });

  it('answers a held poll promptly on close()', async () => {
    const held = bot.api.getUpdates({ timeout: 30 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await fake.close();
    await held;
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('webhook mode', () => {
  it('posts updates to the webhook with the secret header', async () => {
    const seenHeaders: http.IncomingHttpHeaders[] = [];
    bot.on('message:text', (ctx) => ctx.reply(`got ${ctx.message.text}`));
    const handle = webhookCallback(bot, 'http', { secretToken: 'sekret_1' });
    const server = http.createServer((req, res) => {
      seenHeaders.push(req.headers);
      void handle(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tg`;
      await bot.api.setWebhook(url, { secret_token: 'sekret_1' });
      const update = await fake.pushUpdate(fake.userMessage({ userId: USER, text: 'via hook' }));
      expect(fake.webhookResponses).toEqual([{ update_id: update.update_id, status: 200, body: expect.any(String) }]);
      expect(seenHeaders[0]?.['x-telegram-bot-api-secret-token']).toBe('sekret_1');
      await fake.waitForText(USER, 'got via hook');

      // a wrong secret is rejected by grammY, and the fake records the status
      await bot.api.setWebhook(url, { secret_token: 'other' });
      await fake.pushUpdate(fake.userMessage({ userId: USER, text: 'forged' }));
      expect(fake.webhookResponses.at(-1)?.status).toBe(401);
      expect(fake.refusals).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('rate limiting and injected failures', () => {
  it('answers 429 with retry_after when a chat exceeds its limit', async () => {
    const limited = await startFakeTelegram({ rateLimit: { perChatPerSecond: 2, retryAfterSeconds: 3 } });
    try {
      const b = newBot(limited);
      await b.api.sendMessage(USER, 'one');
      await b.api.sendMessage(USER, 'two');
      const err = await grammyError(b.api.sendMessage(USER, 'three'));
      expect(err.error_code).toBe(429);
      expect(err.description).toBe('Too Many Requests: retry after 3');
      expect(err.parameters.retry_after).toBe(3);
      expect(limited.tooManyRequests).toBe(1);
      await b.api.sendMessage(USER + 1, 'other chat is fine');
      expect(limited.refusals).toEqual([]); // rate limits are not "invalid request" refusals
    } finally {
      await limited.close();
    }
  });

  it('lets a private chat take a short burst, then holds it to its rate', async () => {
    const limited = await startFakeTelegram({ rateLimit: { perChatPerSecond: 1, perChatBurst: 3 } });
    try {
      const b = newBot(limited);
      for (const text of ['one', 'two', 'three']) await b.api.sendMessage(USER, text);
      const err = await grammyError(b.api.sendMessage(USER, 'four'));
      expect(err.error_code).toBe(429);
      // The burst's first message leaves the 3-second window about 3 seconds after it was sent.
      expect(err.parameters.retry_after).toBeGreaterThanOrEqual(2);
      expect(err.parameters.retry_after).toBeLessThanOrEqual(3);
      expect(limited.messagesTo(USER)).toEqual(['one', 'two', 'three']);
      await b.api.sendMessage(USER + 1, 'other chat is fine');
    } finally {
      await limited.close();
    }
  });

  it('limits groups per minute and everything globally', async () => {
    const limited = await startFakeTelegram({ rateLimit: { perGroupPerMinute: 1, globalPerSecond: 3 } });
    try {
      const b = newBot(limited);
      await b.api.sendMessage(-100, 'group 1');
      const group = await grammyError(b.api.sendMessage(-100, 'group 2'));
      expect(group.error_code).toBe(429);
      expect(group.parameters.retry_after).toBeGreaterThan(50); // a minute window
      await b.api.sendMessage(1, 'a');
      await b.api.sendMessage(2, 'b');
      const global = await grammyError(b.api.sendMessage(3, 'c'));
      expect(global.error_code).toBe(429);
      expect(limited.tooManyRequests).toBe(2);
    } finally {
      await limited.close();
    }
  });

  it('failNext injects one error, blockChat answers 403', async () => {
    fake.failNext('sendMessage', { error_code: 500, description: 'Internal Server Error' });
    const err = await grammyError(bot.api.sendMessage(USER, 'x'));
    expect(err.error_code).toBe(500);
    await bot.api.sendMessage(USER, 'x'); // only the next one

    fake.blockChat(USER);
    const blocked = await grammyError(bot.api.sendMessage(USER, 'y'));
    expect(blocked.error_code).toBe(403);
    expect(blocked.description).toBe('Forbidden: bot was blocked by the user');
    expect(fake.refusals).toEqual([]);
    expect(fake.failures.map((f) => f.kind)).toEqual(['injected', 'blocked']);
  });
});

describe('update builders', () => {
  it('build realistic updates grammY understands', async () => {
    await bot.init();
    const seen: string[] = [];
    bot.command('start', (ctx) => void seen.push(`start:${ctx.match}`));
    bot.on('message:photo', (ctx) => void seen.push(`photo:${ctx.message.photo.at(-1)!.file_id}:${ctx.message.caption}`));
    bot.on('message:location', (ctx) => void seen.push(`loc:${ctx.message.location.latitude}`));
    bot.on('message:sticker', () => void seen.push('sticker'));
    bot.on('message:contact', (ctx) => void seen.push(`contact:${ctx.message.contact.phone_number}:${ctx.message.contact.user_id}`));
    bot.on('callback_query:data', async (ctx) => {
      seen.push(`cb:${ctx.callbackQuery.data}:${ctx.callbackQuery.message?.message_id}`);
      await ctx.answerCallbackQuery({ text: 'ok' });
    });
    bot.on('message:text', (ctx) => void seen.push(`text:${ctx.from.first_name}:${ctx.from.language_code}`));

    const msg = fake.userMessage({ userId: USER, text: 'hi', firstName: 'Lan', username: 'lan', languageCode: 'vi' });
    expect(msg.message).toMatchObject({
      from: { id: USER, is_bot: false, first_name: 'Lan', username: 'lan', language_code: 'vi' },
      chat: { id: USER, type: 'private', first_name: 'Lan' },
    });
    await bot.handleUpdate(msg);
    await bot.handleUpdate(fake.userCommand({ userId: USER, command: 'start', args: 'ref42' }));
    await bot.handleUpdate(fake.userPhoto({ userId: USER, fileId: 'ph1', caption: 'broken lamp' }));
    await bot.handleUpdate(fake.userLocation({ userId: USER, latitude: 10.77, longitude: 106.7 }));
    await bot.handleUpdate(fake.userSticker({ userId: USER }));
    await bot.handleUpdate(fake.userContact({ userId: USER, phone: '+84900000000' }));
    const sent = await bot.api.sendMessage(USER, 'Choose', { reply_markup: new InlineKeyboard().text('A', 'choice:a') });
    const cb = fake.callbackQuery({ userId: USER, data: 'choice:a' });
    expect(cb.callback_query?.message).toMatchObject({ message_id: sent.message_id, text: 'Choose' });
    await bot.handleUpdate(cb);

    expect(seen).toEqual([
      'text:Lan:vi',
      'start:ref42',
      'photo:ph1:broken lamp',
      'loc:10.77',
      'sticker',
      `contact:+84900000000:${USER}`,
      `cb:choice:a:${sent.message_id}`,
    ]);
    // message ids are shared per chat, update ids increase
    expect(sent.message_id).toBe(7);
    expect(cb.update_id).toBeGreaterThan(msg.update_id);
    expect(fake.refusals).toEqual([]);
  });

  it('waitFor explains what happened on timeout', async () => {
    await bot.api.sendMessage(USER, 'something else');
    await expect(fake.waitForText(USER, 'never', 100)).rejects.toThrow(/sendMessage chat=4242 "something else"/);
  });
});

describe('reference data', () => {
  it('can be overridden with TELEGRAM_API_REFERENCE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-ref-'));
    const file = join(dir, 'ref.json');
    writeFileSync(file, JSON.stringify({ version: 'tiny', methods: { getMe: { name: 'getMe', returns: ['User'] } }, types: {} }));
    const previous = process.env.TELEGRAM_API_REFERENCE;
    process.env.TELEGRAM_API_REFERENCE = file;
    try {
      expect(loadApiReference().version).toBe('tiny');
      const tiny = await startFakeTelegram();
      try {
        const b = newBot(tiny);
        await b.api.getMe();
        expect((await grammyError(b.api.sendMessage(USER, 'x'))).error_code).toBe(404);
      } finally {
        await tiny.close();
      }
    } finally {
      if (previous === undefined) delete process.env.TELEGRAM_API_REFERENCE;
      else process.env.TELEGRAM_API_REFERENCE = previous;
    }
    expect(loadApiReference().version).toBe('Bot API 10.1');
  });
});
