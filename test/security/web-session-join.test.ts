/**
 * M4: with PUBLIC_URL set the web chat is open to the internet, so a stranger must not browse to
 * a group and join it (and receive its alerts). From the web chat a group is joined with its
 * invite code only; messengers, and a local web chat, still browse.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { createWebClient, texts, type WebReply } from '../helpers/web-client.js';
import { mayJoinByBrowsing } from '../../src/core/authz/policy.js';

let running: TestApp[] = [];
afterEach(async () => {
  for (const t of running) await t.dispose();
  running = [];
});

async function start(env: Record<string, string> = {}) {
  const t = await startTestApp({ env });
  running.push(t);
  return t;
}

const choiceIds = (replies: WebReply[]) => [...replies].reverse().find((r) => r.choices?.length)?.choices?.flat().map((c) => c.id) ?? [];

/** Onboards to the placement question, then browses down the first branch until groups are offered. */
/** Joining asks (for a group by approval) a note for the leader, then whether the leaders may see the name. */
async function answerJoinQuestions(web: ReturnType<typeof createWebClient>, replies: WebReply[]): Promise<WebReply[]> {
  if (/cần tổ trưởng duyệt/.test(texts(replies))) replies = await web.say('bỏ qua');
  expect(texts(replies)).toMatch(/thấy tên của bạn không\?/);
  return web.say('không');
}

async function browseToGroup(web: ReturnType<typeof createWebClient>): Promise<{ replies: WebReply[]; groupId: string }> {
  await web.say('/start');
  await web.say('1'); // Tiếng Việt
  let replies = await web.say('1'); // đồng ý
  replies = await web.choose('place:browse');
  for (let depth = 0; depth < 8; depth++) {
    const ids = choiceIds(replies);
    const group = ids.find((id) => id.startsWith('group:'));
    if (group) return { replies, groupId: group.slice('group:'.length) };
    const area = ids.find((id) => id.startsWith('area:'));
    if (!area) throw new Error(`no area or group offered: ${texts(replies)}`);
    replies = await web.choose(area);
  }
  throw new Error('no group found while browsing');
}

describe('joining from a public web chat needs an invite code (M4)', () => {
  it('with PUBLIC_URL, picking a group in the tree asks for its code; the code joins', async () => {
    const t = await start({ PUBLIC_URL: 'https://bot.example.vn' });
    const web = createWebClient(t.baseUrl);
    const { groupId } = await browseToGroup(web);
    let replies = await web.choose(`group:${groupId}`);
    expect(texts(replies)).toMatch(/Để tham gia một khu dân cư từ trang web, bạn hãy nhập mã mời/);
    const person = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: web.session } } });
    expect(await t.app.db.membership.count({ where: { personId: person.personId } })).toBe(0);

    const group = await t.app.db.group.findUniqueOrThrow({ where: { id: groupId } });
    replies = await answerJoinQuestions(web, await web.say(group.inviteCode));
    expect(texts(replies)).toMatch(/Bạn đã tham gia|đã được gửi|Đã gửi yêu cầu/);
    expect(await t.app.db.membership.count({ where: { personId: person.personId, groupId } })).toBe(1);
  });

  it('without PUBLIC_URL (a local web chat) browsing still joins', async () => {
    const t = await start();
    const web = createWebClient(t.baseUrl);
    const { groupId } = await browseToGroup(web);
    const replies = await web.choose(`group:${groupId}`);
    expect(texts(replies)).not.toMatch(/nhập mã mời/);
    await answerJoinQuestions(web, replies);
    const person = await t.app.db.channelAccount.findUniqueOrThrow({ where: { channel_externalId: { channel: 'web', externalId: web.session } } });
    expect(await t.app.db.membership.count({ where: { personId: person.personId, groupId } })).toBe(1);
  });

  it('the rule is the policy: only the web channel of a public deployment needs the code', () => {
    expect(mayJoinByBrowsing('web', { webJoinNeedsInviteCode: true })).toBe(false);
    expect(mayJoinByBrowsing('web', { webJoinNeedsInviteCode: false })).toBe(true);
    expect(mayJoinByBrowsing('telegram', { webJoinNeedsInviteCode: true })).toBe(true);
    expect(mayJoinByBrowsing('zalo', { webJoinNeedsInviteCode: true })).toBe(true);
  });
});
