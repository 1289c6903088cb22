/**
 * The periodic report an officer hands up the chain: an Excel workbook (exceljs) with a summary
 * sheet and one row per case, and the same rows as CSV (UTF-8 with a BOM so Excel reads the
 * Vietnamese). Headers in the person's language (Vietnamese by default), dates as dd/mm/yyyy
 * HH:mm in Vietnam time. No reporter and no description: figures and references only.
 */
import { CATEGORIES } from '../core/services/case.catalog.js';
import type { Dashboard, Period, ReportRow } from './console-stats.js';
import { vnDateTime } from './console-stats.js';
import { categoryText, statusText, type T } from './pages.js';

const DETAIL_HEADER_KEYS = [
  'console:xRef',
  'console:xCategory',
  'console:xStatus',
  'console:xUrgent',
  'console:xGroup',
  'console:xArea',
  'console:xLevel',
  'console:xCreated',
  'console:xAcknowledged',
  'console:xResolved',
  'console:xOverdue',
];

export function periodLabel(t: T, p: Period): string {
  if (p.kind === 'month') return t('console:periodMonthLabel', { month: p.index, year: p.year });
  if (p.kind === 'quarter') return t('console:periodQuarterLabel', { quarter: p.index, year: p.year });
  return t('console:periodYearLabel', { year: p.year });
}

/** Milliseconds as hours with one decimal ("" when there is no figure). */
export const hours = (ms: number | undefined) => (ms === undefined ? '' : (ms / 3_600_000).toFixed(1));

/** A label without the emoji the chat puts in front of it: a report goes up the chain as it is. */
export const plain = (label: string) => label.replace(/^[^\p{L}\p{N}]+/u, '');

function detailRow(t: T, r: ReportRow): string[] {
  return [
    r.ref,
    plain(categoryText(t, r.category)),
    plain(statusText(t, r.status)),
    r.urgent ? t('console:yes') : t('console:no'),
    r.group?.name ?? '',
    r.area.name,
    r.level === 'area' ? t('console:levelPolice') : t('console:levelGroup'),
    vnDateTime(r.createdAt),
    vnDateTime(r.acknowledgedAt),
    vnDateTime(r.resolvedAt),
    r.overdueAt ? t('console:yes') : t('console:no'),
  ];
}

/** The summary: one row per category, then the totals and the times. */
function summaryRows(t: T, rows: ReportRow[], d: Dashboard): (string | number)[][] {
  const out: (string | number)[][] = [];
  for (const c of CATEGORIES) {
    const mine = rows.filter((r) => r.category === c);
    out.push([plain(categoryText(t, c)), mine.length, mine.filter((r) => r.resolvedAt || r.status === 'closed').length, mine.filter((r) => ['new', 'acknowledged', 'waiting_reporter', 'reopened'].includes(r.status)).length, mine.filter((r) => r.overdueAt).length]);
  }
  out.push([t('console:xTotal'), d.total, d.resolved, d.open, d.overdue]);
  return out;
}

export async function buildWorkbook(t: T, scopeName: string, period: Period, rows: ReportRow[], d: Dashboard): Promise<Buffer> {
  // Loaded when a report is asked for: the library costs ~0.4 s and tens of MB at start-up otherwise.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = t('console:appName');
  wb.created = new Date(0);
  const summary = wb.addWorksheet(t('console:xSheetSummary'));
  summary.addRow([t('console:reportTitle', { period: periodLabel(t, period) })]).font = { bold: true, size: 14 };
  summary.addRow([t('console:xScope'), scopeName]);
  summary.addRow([]);
  const head = summary.addRow([t('console:xCategory'), t('console:xReceived'), t('console:xResolvedCount'), t('console:xOpen'), t('console:xOverdue')]);
  head.font = { bold: true };
  for (const row of summaryRows(t, rows, d)) summary.addRow(row);
  summary.addRow([]);
  summary.addRow([t('console:xAckMedian'), hours(d.ackMs.median)]);
  summary.addRow([t('console:xAckP90'), hours(d.ackMs.p90)]);
  summary.addRow([t('console:xResolveMedian'), hours(d.resolveMs.median)]);
  summary.addRow([t('console:xResolveP90'), hours(d.resolveMs.p90)]);
  summary.addRow([t('console:xAlerts'), d.alerts.count]);
  summary.columns.forEach((col, i) => (col.width = i === 0 ? 42 : 18));

  const detail = wb.addWorksheet(t('console:xSheetDetail'));
  detail.addRow(DETAIL_HEADER_KEYS.map((k) => t(k))).font = { bold: true };
  for (const r of rows) detail.addRow(detailRow(t, r));
  detail.columns.forEach((col) => (col.width = 20));
  detail.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const csvCell = (v: string | number) => {
  const s = String(v);
  // Quote always; neutralise spreadsheet formulas (a cell starting with = + - @).
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
};

export function buildCsv(t: T, rows: ReportRow[]): string {
  const lines = [DETAIL_HEADER_KEYS.map((k) => csvCell(t(k))).join(',')];
  for (const r of rows) lines.push(detailRow(t, r).map(csvCell).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
