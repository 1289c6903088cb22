/**
 * The dashboard's figures for a period, the periodic report as an Excel workbook (opened here
 * with exceljs, cells checked) and as CSV, with Vietnamese headers and dates; Chart.js and
 * Leaflet served by the service itself; the map page with and without a tile server.
 */
import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import type { App } from '../../src/app.js';
import { makeOfficer } from '../helpers/roles.js';
import { consoleBrowser, onServer, openLink } from './console-helpers.js';

let apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps) await t.dispose();
  apps = [];
});

/** Vietnam time (UTC+7) to a Date. */
const vn = (iso: string) => new Date(Date.parse(`${iso}:00+07:00`));
const HOUR = 3_600_000;

async function officerOf(app: App, inviteCode: string) {
  const person = await app.db.person.create({ data: { accounts: { create: { channel: 'telegram', externalId: '6500001', chatId: '6500001' } } } });
  const group = await app.db.group.findFirstOrThrow({ where: { inviteCode }, include: { area: true } });
  await makeOfficer(app, person.id, group.area.code);
  return { person, group };
}

async function reported(app: App, groupId: string, n: number, category: 'traffic' | 'order' | 'other', at: Date, extra: { ack?: number; resolve?: number; overdue?: boolean; lat?: number; lon?: number } = {}) {
  const reporter = await app.db.person.create({
    data: { displayName: `Reporter Secretname${n}`, accounts: { create: { channel: 'zalo', externalId: `zr-secret-${n}`, chatId: `zr-secret-${n}` } }, memberships: { create: { groupId, state: 'active' } } },
  });
  const { case: c } = await app.services.cases.create(reporter.id, { groupId, category, urgent: false, description: `Mô tả bí mật ${n}`, anonymous: false, latitude: extra.lat, longitude: extra.lon });
  await app.db.case.update({
    where: { id: c.id },
    data: {
      createdAt: at,
      status: extra.resolve ? 'resolved' : extra.ack ? 'acknowledged' : 'new',
      acknowledgedAt: extra.ack ? new Date(at.getTime() + extra.ack) : null,
      resolvedAt: extra.resolve ? new Date(at.getTime() + extra.resolve) : null,
      overdueAt: extra.overdue ? new Date(at.getTime() + 48 * HOUR) : null,
    },
  });
  return { c, reporter };
}

describe('console figures and reports', () => {
  it('counts a month\'s cases and exports them as xlsx and CSV with Vietnamese headers and dates', { timeout: 120_000 }, async () => {
    const t = await startTestApp();
    apps.push(t);
    const app = t.app;
    const { person, group } = await officerOf(app, 'KMA234');
    const a = await reported(app, group.id, 1, 'traffic', vn('2026-11-03T10:00'), { ack: 1 * HOUR, resolve: 5 * HOUR, lat: 21.03, lon: 105.81 });
    const b = await reported(app, group.id, 2, 'traffic', vn('2026-11-10T08:30'), { ack: 3 * HOUR });
    const c = await reported(app, group.id, 3, 'order', vn('2026-11-20T21:15'), { overdue: true });
    await reported(app, group.id, 4, 'other', vn('2026-10-31T23:59')); // October, Vietnam time
    const foreign = await app.db.group.findFirstOrThrow({ where: { inviteCode: 'DBC345' } });
    await reported(app, foreign.id, 5, 'traffic', vn('2026-11-05T09:00')); // another ward: not the officer's

    const desk = await openLink(t, await app.consoleWeb.issueLink(person.id));
    const query = 'period=month&index=11&year=2026';
    const page = await desk.get(`/console/dashboard?${query}`);
    expect(page.status).toBe(200);
    const figure = (label: string) => new RegExp(`<dt>${label}</dt><dd>([^<]*)</dd>`).exec(page.html)?.[1];
    expect(page.html).toContain('Số liệu tháng 11/2026');
    expect(figure('Phản ánh tiếp nhận')).toBe('3');
    expect(figure('Đã giải quyết')).toBe('1');
    expect(figure('Đang mở')).toBe('2');
    expect(figure('Quá hạn')).toBe('1');
    expect(figure('Tiếp nhận — trung vị \\(giờ\\)')).toBe('1.0');
    expect(figure('Tiếp nhận — 90% trong vòng \\(giờ\\)')).toBe('3.0');
    expect(figure('Giải quyết — trung vị \\(giờ\\)')).toBe('5.0');
    expect(page.html).toContain('<script src="/console/assets/vendor/chart.umd.min.js" defer></script>');
    expect(page.html).toMatch(/data-chart="\{&quot;type&quot;:&quot;bar&quot;/);

    // The workbook, opened and read cell by cell.
    const xlsx = await fetch(`${t.baseUrl}/console/report.xlsx?${query}`, { headers: { cookie: `console_session=${desk.cookie}` } });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(xlsx.headers.get('content-disposition')).toBe('attachment; filename="bao-cao-phan-anh-2026-month-11.xlsx"');
    const bytes = Buffer.from(await xlsx.arrayBuffer());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    const vi = (key: string) => app.translator.t('vi', key).replace(/^[^\p{L}\p{N}]+/u, '');
    const summary = wb.getWorksheet('Tổng hợp')!;
    expect(summary.getCell('A1').value).toBe('Báo cáo tình hình tiếp nhận, giải quyết phản ánh tháng 11/2026');
    const rowOf = (sheet: ExcelJS.Worksheet, first: string) => {
      let found: unknown[] | undefined;
      sheet.eachRow((row) => {
        const values = (row.values as unknown[]).slice(1);
        if (values[0] === first) found = values;
      });
      return found;
    };
    expect(rowOf(summary, 'Lĩnh vực')).toEqual(['Lĩnh vực', 'Số phản ánh tiếp nhận', 'Đã giải quyết', 'Đang giải quyết', 'Quá hạn']);
    expect(rowOf(summary, vi('report:cat_traffic'))).toEqual([vi('report:cat_traffic'), 2, 1, 1, 0]);
    expect(rowOf(summary, vi('report:cat_order'))).toEqual([vi('report:cat_order'), 1, 0, 1, 1]);
    expect(rowOf(summary, 'Tổng cộng')).toEqual(['Tổng cộng', 3, 1, 2, 1]);
    expect(rowOf(summary, 'Thời gian đến khi giải quyết — trung vị (giờ)')).toEqual(['Thời gian đến khi giải quyết — trung vị (giờ)', '5.0']);
    const detail = wb.getWorksheet('Chi tiết')!;
    expect((detail.getRow(1).values as unknown[]).slice(1)).toEqual([
      'Mã phản ánh', 'Lĩnh vực', 'Trạng thái', 'Khẩn cấp', 'Tổ dân phố / khu dân cư', 'Phường/xã', 'Cấp đang xử lý', 'Ngày tiếp nhận', 'Ngày xác nhận', 'Ngày giải quyết xong', 'Quá hạn',
    ]);
    expect(detail.rowCount).toBe(4);
    expect((detail.getRow(2).values as unknown[]).slice(1)).toEqual([
      a.c.ref, vi('report:cat_traffic'), vi('cases:status_resolved'), 'Không', group.name, group.area.name, 'Tổ dân phố', '03/11/2026 10:00', '03/11/2026 11:00', '03/11/2026 15:00', 'Không',
    ]);
    expect(detail.getRow(3).getCell(1).value).toBe(b.c.ref);
    expect(detail.getRow(4).getCell(1).value).toBe(c.c.ref);
    expect(detail.getRow(4).getCell(11).value).toBe('Có');

    const csv = await fetch(`${t.baseUrl}/console/report.csv?${query}`, { headers: { cookie: `console_session=${desk.cookie}` } });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csvBytes = Buffer.from(await csv.arrayBuffer());
    expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csvBytes.toString('utf8').slice(1).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('"Mã phản ánh","Lĩnh vực","Trạng thái","Khẩn cấp","Tổ dân phố / khu dân cư","Phường/xã","Cấp đang xử lý","Ngày tiếp nhận","Ngày xác nhận","Ngày giải quyết xong","Quá hạn"');
    expect(lines[1]).toContain(`"${a.c.ref}"`);
    expect(lines[1]).toContain('"03/11/2026 10:00","03/11/2026 11:00","03/11/2026 15:00"');
    expect(lines[3]).toContain('"20/11/2026 21:15"');

    // Nothing about reporters in any of it.
    const everything = [page.html, csvBytes.toString('utf8'), JSON.stringify(wb.worksheets.map((s) => s.getSheetValues()))].join('\n');
    for (const secret of ['Secretname', 'zr-secret', 'Mô tả bí mật', a.reporter.id, b.reporter.id]) expect(everything).not.toContain(secret);
    const exports = await app.db.auditLog.findMany({ where: { actorId: person.id, action: 'console.report.export' } });
    expect(exports.map((e) => JSON.parse(e.detail).format).sort()).toEqual(['csv', 'xlsx']);

    // A year view and a resident's cookie-less request.
    const year = await desk.get('/console/dashboard?period=year&year=2026');
    expect(/<dt>Phản ánh tiếp nhận<\/dt><dd>(\d+)<\/dd>/.exec(year.html)?.[1]).toBe('4');
    expect((await fetch(`${t.baseUrl}/console/report.xlsx?${query}`)).status).toBe(401);

    // Chart.js and Leaflet come from the service itself.
    for (const [asset, type, marker] of [
      ['vendor/chart.umd.min.js', 'text/javascript; charset=utf-8', 'Chart'],
      ['vendor/leaflet.js', 'text/javascript; charset=utf-8', 'Leaflet'],
      ['vendor/leaflet.css', 'text/css; charset=utf-8', '.leaflet-container'],
      ['dashboard.js', 'text/javascript; charset=utf-8', 'new Chart'],
    ]) {
      const res = await fetch(`${t.baseUrl}/console/assets/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(await res.text()).toContain(marker);
    }

    // The map: the open case with a pin... it is resolved, so only with status=all.
    let map = await desk.get('/console/map');
    expect(map.html).toContain('0 phản ánh đang mở có vị trí');
    expect(map.html).toContain('CONSOLE_TILE_URL');
    map = await desk.get('/console/map?status=all');
    expect(map.html).toContain(`>${a.c.ref}</a>`);
    expect(map.html).toMatch(/data-pins="\[\{&quot;ref&quot;/);
    expect(map.headers.get('content-security-policy')).toContain("img-src 'self' data: blob:");
  });

  it('allows the configured tile server\'s images on the map page only', async () => {
    const t = await startTestApp({ env: { CONSOLE_TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png' } });
    apps.push(t);
    const { person } = await officerOf(t.app, 'KMA234');
    const desk = consoleBrowser(t, (await openLink(t, await t.app.consoleWeb.issueLink(person.id))).cookie);
    await t.app.db.person.update({ where: { id: person.id }, data: { locale: 'en' } });
    const map = await desk.get('/console/map');
    expect(map.html).toContain('<html lang="en">');
    expect(map.html).toContain('Map of cases');
    expect(map.headers.get('content-security-policy')).toContain("img-src 'self' https://*.tile.example.org data: blob:");
    expect(map.html).toContain('data-tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png"');
    expect((await desk.get('/console/cases')).headers.get('content-security-policy')).not.toContain('example.org');
    expect(onServer).toBeTypeOf('function');
  });
});
