/**
 * Anonymity end to end: anonymous reporters on Telegram, Zalo and the web chat, each with a
 * distinctive name, username, phone and ids; handlers on Telegram (leader), Zalo (ward
 * officer) and the web (deputy) drive every handler action. Then every message any handler
 * received (texts, captions, button labels and data, web inbox rows) is scanned for every
 * identifier of every reporter: none may appear, the per-case alias must.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeLeader, makeOfficer, personOf } from '../helpers/roles.js';
import { texts } from '../helpers/web-client.js';
import { onboardTelegram, onboardWebInboxUser, onboardZalo } from '../helpers/onboarding.js';
import { startAppOnFakes, startFakes, startWorld, tempDirRemovedAfter, type Cleanups } from '../helpers/world.js';
import { distinctJpeg, startPhotoServer } from '../helpers/photos.js';
import { offered, refOf } from '../helpers/cases.js';
import { createLogger } from '../../src/logger.js';
import type { Case } from '../../src/generated/prisma/client.js';

const TELEGRAM_TOKEN = '123456789:AAE-fake_telegram_token_anonymity';
/** How long to wait for the bot in this file (the shared drivers wait 15 s unless told). */
const WAIT = 20_000;

let cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** What a test needs of a handler, whatever the channel. */
interface Handler {
  name: string;
  /** A position in the handler's message stream, for waiting on what comes after it. */
  mark(): Promise<number>;
  waitFor(pattern: RegExp, mark: number): Promise<unknown>;
  /** Opens the case as a handler: the Open button on its notification, or /cases on Zalo. */
  open(c: Case): Promise<string>;
  /** Picks the action or list item labelled `label` from the newest list that has it. */
  act(label: string): Promise<string>;
  type(text: string): Promise<string>;
  command(text: string): Promise<string>;
}

/** What a test needs of a reporter, whatever the channel. */
interface Reporter {
  name: string;
  answer(c: Case, text: string): Promise<void>;
  notFixed(c: Case): Promise<void>;
}

/** Every handler action on one case, with the reporter answering and saying "not fixed". */
async function driveEveryAction(d: Handler, r: Reporter, c: Case, duplicateOf: string): Promise<void> {
  const alias = `ẩn danh #${c.alias}`;
  let text = await d.open(c);
  expect(text, `${d.name} opens ${c.ref}`).toContain(`Người phản ánh: ${alias}`);
  expect(await d.act('Tiếp nhận')).toMatch(new RegExp(`Đã tiếp nhận ${c.ref}`));
  expect(await d.act('Hỏi')).toMatch(/Gõ câu hỏi hoặc câu trả lời/);
  expect(await d.type(`Về ${c.ref}: bạn thấy lúc mấy giờ?`)).toMatch(/Đã gửi tới người phản ánh/);
  let mark = await d.mark();
  await r.answer(c, `Trả lời ${c.ref}: khoảng 22 giờ tối qua`);
  await d.waitFor(new RegExp(`Người phản ánh \\(${alias}\\) nhắn về ${c.ref}`), mark);
  expect(await d.act('Ghi chú nội bộ')).toMatch(/Gõ ghi chú nội bộ/);
  expect(await d.type(`Ghi chú ${c.ref}: đã báo tổ bảo vệ an ninh theo dõi`)).toMatch(/Đã lưu ghi chú nội bộ/);
  expect(await d.act('Đã xử lý xong')).toMatch(/Gõ kết quả xử lý/);
  expect(await d.type(`Kết quả ${c.ref}: đã kiểm tra, nhắc nhở`)).toMatch(new RegExp(`Đã đánh dấu ${c.ref} là đã xử lý`));
  mark = await d.mark();
  await r.notFixed(c);
  await d.waitFor(new RegExp(`${c.ref} CHƯA được giải quyết`), mark);
  text = await d.open(c);
  expect(text).toMatch(/Trạng thái: đã mở lại/);
  expect(text).toContain(`• ${alias}: Trả lời ${c.ref}`);
  expect(await d.act('Đánh dấu trùng')).toMatch(/Gõ mã phản ánh gốc/);
  expect(await d.type(duplicateOf.toLowerCase())).toMatch(new RegExp(`Đã đánh dấu ${c.ref} là trùng`));
  expect(await d.act('Mở lại')).toMatch(new RegExp(`Đã mở lại ${c.ref}`));
  expect(await d.act('Chuyển cấp trên')).toMatch(new RegExp(`Đã chuyển ${c.ref} cho Công an`));
  expect(await d.command('/cases')).toMatch(/Phản ánh đang mở \(\d+\)/);
}

describe('anonymity on every channel', () => {
  it('no message to any handler carries an anonymous reporter\'s name, username, phone or ids; the alias does', async () => {
    const logLines: string[] = [];
    const fakes = await startFakes(TELEGRAM_TOKEN, cleanups);
    const { tg, zalo } = fakes;
    const dir = tempDirRemovedAfter(cleanups);
    const t = await startAppOnFakes(fakes, cleanups, { dir, appOptions: { logger: createLogger('debug', (line) => logLines.push(line)) } });
    const cdn = await startPhotoServer(distinctJpeg('zalo-anonymous-photo'), cleanups);

    // Handlers: a Telegram leader, a Zalo ward officer, a web deputy.
    const tgLeader = await onboardTelegram(tg, 5_550_001, { firstName: 'Tổ trưởng', username: 'leader_kim_ma' }, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '5550001')).id, 'HN-GV-01');
    const zaloOfficer = await onboardZalo(zalo, 'zalo-officer-anon', 'Cán bộ Phường', { wait: WAIT });
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-anon')).id, 'HN-GV');
    const webDeputy = await onboardWebInboxUser(t, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'web', webDeputy.session)).id, 'HN-GV-01', 'deputy');

    // Reporters, each with identifiers nobody else could produce by chance.
    const tgRep = await onboardTelegram(tg, 731_946_285, { firstName: 'Zephyrine', lastName: 'Quimbertova', username: 'zephy_secret_qb' }, { wait: WAIT });
    const zaloRep = await onboardZalo(zalo, 'zr8f3k2m9x7q4w', 'Xandrella Vortigan', { wait: WAIT });
    const webRep = await onboardWebInboxUser(t, { wait: WAIT });
    const tgPerson = await personOf(t.app, 'telegram', '731946285');
    const zaloPerson = await personOf(t.app, 'zalo', 'zr8f3k2m9x7q4w');
    const webPerson = await personOf(t.app, 'web', webRep.session);
    await t.app.db.person.update({ where: { id: tgPerson.id }, data: { phone: '+84912738465' } });
    await t.app.db.person.update({ where: { id: zaloPerson.id }, data: { phone: '+84977061122' } });
    await t.app.db.person.update({ where: { id: webPerson.id }, data: { phone: '+84966554433', displayName: 'Ysolde Krumholtz' } });
    await t.app.db.channelAccount.updateMany({ where: { personId: webPerson.id }, data: { displayName: 'Ysolde Krumholtz' } });
    // The Telegram reporter even lets the group's leaders see their name as a member: an anonymous report still hides it.
    await t.app.db.membership.updateMany({ where: { personId: tgPerson.id }, data: { shareContact: true } });
    // The Telegram reporter also shares their contact (outside any flow).
    await tgRep.send(tg.userContact({ userId: 731_946_285, firstName: 'Zephyrine', lastName: 'Quimbertova', username: 'zephy_secret_qb', languageCode: 'vi', phone: '+84912738465' }));

    const identifiers = new Map<string, string[]>([
      ['telegram reporter', ['Zephyrine', 'Quimbertova', 'Zephyrine Quimbertova', 'zephy_secret_qb', '+84912738465', '84912738465', '912738465', '731946285', tgPerson.id]],
      ['zalo reporter', ['Xandrella', 'Vortigan', 'Xandrella Vortigan', 'zr8f3k2m9x7q4w', '+84977061122', '84977061122', '977061122', zaloPerson.id]],
      ['web reporter', ['Ysolde', 'Krumholtz', 'Ysolde Krumholtz', webRep.session, '+84966554433', '84966554433', '966554433', webPerson.id]],
    ]);
    for (const [who, person] of [['telegram reporter', tgPerson], ['zalo reporter', zaloPerson], ['web reporter', webPerson]] as const) {
      const accounts = await t.app.db.channelAccount.findMany({ where: { personId: person.id } });
      identifiers.get(who)!.push(...accounts.flatMap((a) => [a.id, a.externalId, a.chatId]));
    }

    // Three anonymous reports: Telegram (photo, pin), Zalo (photo, typed place), web (neither). All reach the ward police.
    await tgRep.command('/report');
    await tgRep.press('Không');
    await tgRep.press('Trộm cắp');
    await tgRep.type('Nhóm thanh niên tụ tập đua xe, mang theo hung khí');
    await tgRep.photo('AgACAgIAAxkBAAIanonphoto');
    await tgRep.location(21.0333, 105.8155);
    await tgRep.press('Ẩn danh');
    const refA = refOf((await tgRep.press('Gửi phản ánh')).text);

    await zaloRep.type('/report');
    await zaloRep.choose('Không');
    await zaloRep.choose('Ma túy');
    await zaloRep.type('Có người bán ma túy ở quán nước đầu ngõ 7');
    await zaloRep.photo(cdn.url);
    await zaloRep.type('Quán nước đầu ngõ 7');
    await zaloRep.choose('Ẩn danh');
    const refB = refOf((await zaloRep.choose('Gửi phản ánh')).text);

    let r = await webRep.say('/report');
    r = await webRep.client.pick(r, 'Không');
    r = await webRep.client.pick(r, 'Cháy');
    r = await webRep.say('Mùi khét từ kho chứa đồ tầng trệt');
    r = await webRep.client.pick(r, 'Bỏ qua');
    r = await webRep.client.pick(r, 'Bỏ qua');
    r = await webRep.client.pick(r, 'Ẩn danh');
    expect(texts(r)).toMatch(/Danh tính: ẩn danh/);
    const refC = refOf(texts(await webRep.client.pick(r, 'Gửi phản ánh')));

    const [caseA, caseB, caseC] = await Promise.all([refA, refB, refC].map((ref) => t.app.db.case.findUniqueOrThrow({ where: { ref } })));
    expect([caseA!.anonymous, caseB!.anonymous, caseC!.anonymous]).toEqual([true, true, true]);

    // Every handler is told of every case.
    for (const ref of [refA, refB, refC]) {
      await tgLeader.waitFor(new RegExp(`Phản ánh mới ${ref}`));
      await zaloOfficer.waitFor(new RegExp(`Phản ánh mới ${ref}`));
      await webDeputy.waitFor(new RegExp(`Phản ánh mới ${ref}`));
    }

    const telegramHandler: Handler = {
      name: 'telegram leader',
      mark: async () => tg.calls.length,
      waitFor: (pattern, mark) => tgLeader.waitFor(pattern, mark),
      open: async (c) => (await tgLeader.press(`Xem ${c.ref}`)).text,
      act: async (label) => (await tgLeader.press(label)).text,
      type: async (text) => (await tgLeader.type(text)).text,
      command: async (text) => (await tgLeader.command(text)).text,
    };
    const zaloHandler: Handler = {
      name: 'zalo officer',
      mark: async () => zalo.sent.length,
      waitFor: (pattern, mark) => zaloOfficer.waitFor(pattern, mark),
      async open(c) {
        await zaloOfficer.type('/cases');
        return (await zaloOfficer.choose(`${c.ref} · `)).text;
      },
      act: async (label) => (await zaloOfficer.choose(label)).text,
      type: async (text) => (await zaloOfficer.type(text)).text,
      command: async (text) => (await zaloOfficer.type(text)).text,
    };
    const webHandler: Handler = {
      name: 'web deputy',
      mark: async () => Math.max(0, ...(await webDeputy.all()).map((m) => m.seq)),
      waitFor: (pattern, mark) => webDeputy.waitFor(pattern, mark),
      async open(c) {
        const withButton = (await webDeputy.all()).reverse().find((m) => m.choices?.flat().some((ch) => ch.id === `c:${c.id}:open`));
        if (!withButton) throw new Error(`no Open button for ${c.ref} on the web`);
        return texts(await webDeputy.client.choose(`c:${c.id}:open`));
      },
      async act(label) {
        for (const m of (await webDeputy.all()).reverse()) {
          const choice = m.choices?.flat().find((ch) => ch.label.includes(label));
          if (choice) return texts(await webDeputy.client.choose(choice.id));
        }
        throw new Error(`no web choice ${label}`);
      },
      type: async (text) => texts(await webDeputy.say(text)),
      command: async (text) => texts(await webDeputy.say(text)),
    };

    const telegramReporter: Reporter = {
      name: 'telegram reporter',
      async answer(c, text) {
        await tgRep.waitFor(new RegExp(`Người xử lý phản ánh ${c.ref} nhắn`));
        expect((await tgRep.press('Trả lời')).text).toMatch(/Gõ câu trả lời cho người xử lý/);
        // The answer is a photo with a caption: it reaches handlers as a photo too.
        expect((await tgRep.photo('AgACAgIAAxkBAAIanonanswer', text)).text).toMatch(/Đã gửi câu trả lời của bạn/);
      },
      async notFixed(c) {
        await tgRep.waitFor(new RegExp(`Phản ánh ${c.ref} đã được xử lý`));
        expect((await tgRep.press('Chưa ổn')).text).toMatch(/Đã ghi nhận/);
      },
    };
    const zaloReporter: Reporter = {
      name: 'zalo reporter',
      async answer(c, text) {
        await zaloRep.waitFor(new RegExp(`Người xử lý phản ánh ${c.ref} nhắn`));
        await offered(t, 'zalo', zaloRep.id, `c:${c.id}:reply`, { wait: WAIT });
        expect((await zaloRep.type('1')).text).toMatch(/Gõ câu trả lời cho người xử lý/);
        expect((await zaloRep.type(text)).text).toMatch(/Đã gửi câu trả lời của bạn/);
      },
      async notFixed(c) {
        await zaloRep.waitFor(new RegExp(`Phản ánh ${c.ref} đã được xử lý`));
        await offered(t, 'zalo', zaloRep.id, `c:${c.id}:notfixed`, { wait: WAIT });
        expect((await zaloRep.choose('Chưa ổn')).text).toMatch(/Đã ghi nhận/);
      },
    };
    const webReporter: Reporter = {
      name: 'web reporter',
      async answer(c, text) {
        await webRep.waitFor(new RegExp(`Người xử lý phản ánh ${c.ref} nhắn`));
        expect(texts(await webRep.client.choose(`c:${c.id}:reply`))).toMatch(/Gõ câu trả lời cho người xử lý/);
        expect(texts(await webRep.say(text))).toMatch(/Đã gửi câu trả lời của bạn/);
      },
      async notFixed(c) {
        await webRep.waitFor(new RegExp(`Phản ánh ${c.ref} đã được xử lý`));
        expect(texts(await webRep.client.choose(`c:${c.id}:notfixed`))).toMatch(/Đã ghi nhận/);
      },
    };

    // Each handler drives every action on one case; the others hear of the rest.
    await driveEveryAction(telegramHandler, telegramReporter, caseA!, refB);
    await driveEveryAction(zaloHandler, zaloReporter, caseB!, refC);
    await driveEveryAction(webHandler, webReporter, caseC!, refA);

    // Every handler lists the queue and opens every case in it.
    for (const handler of [telegramHandler, zaloHandler, webHandler]) {
      const list = await handler.command('/cases');
      expect(list, handler.name).toMatch(/Phản ánh đang mở \(3\)/);
      for (const c of [caseA!, caseB!, caseC!]) {
        const view = await handler.act(`${c.ref} · `);
        expect(view, `${handler.name} views ${c.ref}`).toContain(`Người phản ánh: ẩn danh #${c.alias}`);
        await handler.act('Về danh sách');
      }
    }

    // Everything queued has gone out.
    await vi.waitFor(
      async () => {
        const left = await t.app.db.delivery.count({ where: { status: { in: ['queued', 'sending'] } } });
        if (left) throw new Error(`${left} deliveries still to send`);
      },
      { timeout: 60_000, interval: 50 },
    );
    expect(await t.app.db.delivery.count({ where: { status: 'failed' } })).toBe(0);

    // Collect EVERYTHING each handler received: whole request bodies (text, caption, buttons, data), inbox rows.
    const received: Record<string, string[]> = {
      'telegram leader': tg.calls.filter((c) => String(c.body.chat_id) === '5550001').map((c) => `${c.method} ${JSON.stringify(c.body)}`),
      'zalo officer': zalo.sent.filter((c) => c.body.chat_id === zaloOfficer.id).map((c) => `${c.method} ${JSON.stringify(c.body)}`),
      'web deputy': (await t.app.db.webMessage.findMany({ where: { session: webDeputy.session }, orderBy: { seq: 'asc' } })).map((m) => m.payload),
    };
    const leaks: string[] = [];
    for (const [handler, messages] of Object.entries(received)) {
      expect(messages.length, handler).toBeGreaterThan(40);
      for (const message of messages) {
        for (const [reporter, ids] of identifiers) {
          for (const id of ids) {
            if (message.toLowerCase().includes(id.toLowerCase())) leaks.push(`${handler} got ${reporter}'s "${id}" in: ${message.slice(0, 300)}`);
          }
        }
      }
      const all = messages.join('\n');
      for (const c of [caseA!, caseB!, caseC!]) {
        expect(all, `${handler} sees the alias of ${c.ref}`).toContain(`ẩn danh #${c.alias}`);
        // What the reporter wrote, the thread and the notifications all use the alias.
        expect(all).toContain(`Người phản ánh (ẩn danh #${c.alias}) nhắn về ${c.ref}`);
      }
      expect(all).not.toMatch(/Đã có lỗi xảy ra/);
    }
    expect(leaks).toEqual([]);

    // The photos went to handlers as photos where the channel can show them.
    expect(tg.calls.filter((c) => c.method === 'sendPhoto' && String(c.body.chat_id) === '5550001').length).toBeGreaterThanOrEqual(3);
    expect(received['zalo officer']!.some((m) => m.includes('Có ảnh đính kèm: mở trang web'))).toBe(true);
    expect((await webDeputy.all()).some((m) => m.photo?.url?.startsWith('/media/'))).toBe(true);

    // Internal notes stay internal: reporters never see them.
    const toReporters = [
      ...tg.calls.filter((c) => String(c.body.chat_id) === '731946285').map((c) => JSON.stringify(c.body)),
      ...zalo.sent.filter((c) => c.body.chat_id === zaloRep.id).map((c) => JSON.stringify(c.body)),
      ...(await webRep.all()).map((m) => JSON.stringify(m)),
    ].join('\n');
    expect(toReporters).not.toMatch(/Ghi chú PA-/);

    expect(logLines.filter((l) => /error/i.test(l.split(' ').slice(0, 3).join(' ')))).toEqual([]);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 180_000);

  it('a named report shows the reporter\'s display name to handlers on every channel', async () => {
    const { tg, zalo, t } = await startWorld(TELEGRAM_TOKEN, cleanups);
    const tgLeader = await onboardTelegram(tg, 5_560_001, { firstName: 'Tổ trưởng' }, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'telegram', '5560001')).id, 'HN-GV-01');
    const zaloOfficer = await onboardZalo(zalo, 'zalo-officer-named', 'Cán bộ Phường', { wait: WAIT });
    await makeOfficer(t.app, (await personOf(t.app, 'zalo', 'zalo-officer-named')).id, 'HN-GV');
    const webDeputy = await onboardWebInboxUser(t, { wait: WAIT });
    await makeLeader(t.app, (await personOf(t.app, 'web', webDeputy.session)).id, 'HN-GV-01', 'deputy');

    const rep = await onboardTelegram(tg, 5_560_777, { firstName: 'Nguyễn', lastName: 'Văn Lâm' }, { wait: WAIT });
    await rep.command('/report');
    await rep.press('Không');
    await rep.press('Trộm cắp');
    await rep.type('Mất trộm xe đạp trước cửa nhà');
    await rep.press('Bỏ qua');
    await rep.press('Bỏ qua');
    const preview = await rep.press('Kèm tên');
    expect(preview.text).toMatch(/Danh tính: kèm tên \(Nguyễn Văn Lâm\)/);
    const ref = refOf((await rep.press('Gửi phản ánh')).text);
    const c = await t.app.db.case.findUniqueOrThrow({ where: { ref } });
    expect(c.anonymous).toBe(false);

    const pattern = new RegExp(`Phản ánh mới ${ref}[\\s\\S]*Người phản ánh: Nguyễn Văn Lâm`);
    await tgLeader.waitFor(pattern);
    await zaloOfficer.waitFor(pattern);
    await webDeputy.waitFor(pattern);
    const view = texts(await webDeputy.client.choose(`c:${c.id}:open`));
    expect(view).toContain('Người phản ánh: Nguyễn Văn Lâm');
    expect(view).not.toContain(`#${c.alias}`);
    expect(tg.refusals).toEqual([]);
    expect(zalo.refusals).toEqual([]);
  }, 90_000);
});
