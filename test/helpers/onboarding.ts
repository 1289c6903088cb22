/**
 * A newcomer's first steps on each channel: /start, the language, agreeing to the privacy
 * notice, then an invite code (or "later"). The end-to-end tests need people in a group
 * before the part they test, so the steps live here once.
 */
import { expect } from 'vitest';
import type { FakeTelegram } from '../fakes/fake-telegram-server.js';
import type { FakeZalo } from '../fakes/fake-zalo-server.js';
import type { TestApp } from './test-app.js';
import { telegramUser, type TelegramUser, type TelegramUserOptions, type TelegramWho } from './telegram-user.js';
import { zaloUser, type ZaloUserOptions } from './zalo-user.js';
import { createWebClient, texts, type WebClient, type WebReply } from './web-client.js';
import { webInboxUser } from './web-user.js';

/** Joining asks first whether the group's leaders may see the member's name: kept private unless `shareName`. */
export const SHARE_ASK = /thấy tên của bạn không\?|to see your name\?/;
export const JOINED = /Bạn đã tham gia Tổ dân phố số 1|You have joined Tổ dân phố số 1/;
export const KEEP_PRIVATE = '🕶';
export const SHOW_NAME = '👤';

export interface JoinOptions {
  /** The invite code typed; KMA234 (Tổ dân phố số 1) unless given. */
  code?: string;
  /** What the answer to the code must say. */
  joined?: RegExp;
  /** Answer "yes, show my name" to the leaders when joining asks; otherwise the name is kept private. */
  shareName?: boolean;
}

const askedToShare = (text: string) => !JOINED.test(text) && SHARE_ASK.test(text);

// --- Telegram -------------------------------------------------------------------------

/** /start, Tiếng Việt, agree, "Nhập mã mời", the code (by typed numbers); the user joined. */
export async function onboardTelegram(
  tg: FakeTelegram,
  userId: number,
  who: TelegramWho = {},
  options: JoinOptions & TelegramUserOptions = {},
): Promise<TelegramUser> {
  const { code = 'KMA234', joined = /Bạn đã tham gia Tổ dân phố số 1/, shareName = false } = options;
  const user = telegramUser(tg, userId, who, options);
  await user.command('/start');
  await user.type('1'); // Tiếng Việt
  await user.type('1'); // Tôi đồng ý
  await user.type('2'); // Nhập mã mời
  let turn = await user.type(code);
  if (askedToShare(turn.text)) turn = await user.typeNumberOf(shareName ? SHOW_NAME : KEEP_PRIVATE);
  expect(turn.text).toMatch(joined);
  return user;
}

/** /start, Tiếng Việt, agree, then "Để sau": a person in no group, whose answer must match `later`. */
export async function onboardTelegramWithoutGroup(tg: FakeTelegram, userId: number, who: TelegramWho, later: RegExp, options: TelegramUserOptions = {}): Promise<TelegramUser> {
  const user = telegramUser(tg, userId, who, options);
  await user.command('/start');
  await user.type('1'); // Tiếng Việt
  await user.type('1'); // Tôi đồng ý
  expect((await user.type('3')).text).toMatch(later); // Để sau
  return user;
}

// --- Zalo -----------------------------------------------------------------------------

/**
 * /start, the language, agree, "Nhập mã mời", the code, by typed numbers. Each step names the
 * reply it expects, which a webhook user waits for (a polling user waits until the bot is idle).
 */
export async function onboardZalo(zalo: FakeZalo, id: string, name: string, options: JoinOptions & ZaloUserOptions & { locale?: 'vi' | 'en' } = {}) {
  const { locale = 'vi', code = 'KMA234', shareName = false } = options;
  const joined = options.joined ?? (locale === 'vi' ? /Bạn đã tham gia Tổ dân phố số 1/ : /You have joined Tổ dân phố số 1/);
  const user = zaloUser(zalo, id, name, options);
  const menu = /What would you like to do|Bạn muốn làm gì/;
  await user.type('/start', /Which language|ngôn ngữ nào/);
  await user.type(locale === 'vi' ? '1' : '2', /automated|tự động/);
  await user.type('1', /residential group do you live in|Bạn sống ở khu dân cư nào/);
  await user.type('2', /invite code|mã mời/);
  let turn = await user.type(code, new RegExp(`${menu.source}|${SHARE_ASK.source}`));
  if (askedToShare(turn.text)) turn = await user.choose(shareName ? SHOW_NAME : KEEP_PRIVATE, menu);
  expect(turn.text).toMatch(joined);
  return user;
}

// --- Web chat -------------------------------------------------------------------------

/** Whatever talks to the web chat: a bare client or a user that also records what it got. */
interface WebChatter {
  say(text: string): Promise<WebReply[]>;
  pick(replies: WebReply[], label: string | RegExp): Promise<WebReply[]>;
}

/** /start, Tiếng Việt, agree, "Nhập mã mời", the code (typed numbers); the answer says the user joined. */
export async function joinOnWeb(web: WebChatter, options: JoinOptions = {}): Promise<void> {
  const { code = 'KMA234', joined = /Bạn đã tham gia/, shareName = false } = options;
  await web.say('/start');
  await web.say('1'); // Tiếng Việt
  await web.say('1'); // đồng ý
  await web.say('2'); // mã mời
  let replies = await web.say(code);
  if (askedToShare(texts(replies))) replies = await web.pick(replies, shareName ? SHOW_NAME : KEEP_PRIVATE);
  expect(texts(replies)).toMatch(joined);
}

/** /start, Tiếng Việt, agree, then "Để sau" (whose answer must match `later`): a web user in no group. */
export async function startWebWithoutGroup(web: Pick<WebChatter, 'say'>, later: RegExp): Promise<void> {
  await web.say('/start');
  await web.say('1');
  await web.say('1');
  expect(texts(await web.say('3'))).toMatch(later);
}

/** A new web chat session that joined the group of `inviteCode`. */
export async function onboardWeb(baseUrl: string, inviteCode: string): Promise<WebClient> {
  const web = createWebClient(baseUrl);
  await joinOnWeb(web, { code: inviteCode });
  return web;
}

/** A web user of Tổ dân phố số 1 whose inbox is read from the database (see webInboxUser). */
export async function onboardWebInboxUser(t: TestApp, options: { wait?: number } = {}) {
  const user = webInboxUser(t, options);
  await joinOnWeb(user.client);
  return user;
}
