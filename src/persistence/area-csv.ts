/**
 * Reads an area tree from CSV (header: kind,code,name,parent,level,level_name,police_unit,join_policy,invite_code;
 * kind is "area" or "group"; a group's parent is its commune/ward's code; level_name and police_unit
 * are optional columns). Every problem names the line and the field, so an administrator can fix the file.
 */
import type { AreaDocument } from './area-import.js';

export interface CsvProblem {
  line: number;
  field: string;
  key: string;
}

export const CSV_COLUMNS = ['kind', 'code', 'name', 'parent', 'level', 'level_name', 'police_unit', 'join_policy', 'invite_code'] as const;

/** RFC 4180-style rows: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((c) => c.trim() !== '')) rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += ch;
  }
  cells.push(cell);
  if (cells.some((c) => c.trim() !== '')) rows.push({ line: rowLine, cells });
  return rows;
}

export function csvToAreaDocument(text: string): { document: AreaDocument; lineOf: (path: (string | number)[]) => number | undefined; problems: CsvProblem[] } {
  const rows = parseCsvRows(text);
  const problems: CsvProblem[] = [];
  const header = rows.shift();
  const names = header?.cells.map((c) => c.trim().toLowerCase()) ?? [];
  for (const required of ['kind', 'code', 'name']) {
    if (!names.includes(required)) problems.push({ line: header?.line ?? 1, field: required, key: 'admin:problemMissingColumn' });
  }
  const document: Required<AreaDocument> = { areas: [], groups: [] };
  const areaLines: number[] = [];
  const groupLines: number[] = [];
  if (problems.length) return { document, lineOf: () => undefined, problems };
  const col = (cells: string[], name: string) => {
    const i = names.indexOf(name);
    const v = i >= 0 ? (cells[i] ?? '').trim() : '';
    return v === '' ? undefined : v;
  };
  for (const { line, cells } of rows) {
    const kind = col(cells, 'kind')?.toLowerCase();
    if (kind === 'area') {
      document.areas.push({
        code: col(cells, 'code') ?? '',
        name: col(cells, 'name') ?? '',
        level: (col(cells, 'level') ?? '') as 'ward', // checked by the import's schema
        levelName: col(cells, 'level_name'),
        policeUnit: col(cells, 'police_unit'),
        parent: col(cells, 'parent'),
      });
      areaLines.push(line);
    } else if (kind === 'group') {
      document.groups.push({
        code: col(cells, 'code') ?? '',
        name: col(cells, 'name') ?? '',
        area: col(cells, 'parent') ?? '',
        joinPolicy: (col(cells, 'join_policy') ?? 'open') as 'open',
        inviteCode: col(cells, 'invite_code'),
      });
      groupLines.push(line);
    } else {
      problems.push({ line, field: 'kind', key: 'admin:problemKind' });
    }
  }
  const lineOf = (path: (string | number)[]) => {
    const [list, index] = path;
    if (typeof index !== 'number') return undefined;
    return list === 'areas' ? areaLines[index] : list === 'groups' ? groupLines[index] : undefined;
  };
  return { document, lineOf, problems };
}
