/**
 * Loads an area tree and its residential groups from a JSON document
 * ({ areas: [{code,name,level,levelName?,policeUnit?,parent?}], groups: [{code,name,area,inviteCode?,joinPolicy?}] }).
 * The tree decides how many levels there are and what they are called (since 2025: province ->
 * commune/ward; older trees with districts work the same); `policeUnit` names the police that
 * handle an area ("Công an phường Mũi Né") and is where escalation goes.
 * Existing codes are updated, new ones created, in one transaction; errors name the entry and field.
 */
import * as z from 'zod';
import type { Db } from '../core/services/db.js';
import { CODE_ALPHABET, normaliseCode, randomCode } from '../core/codes.js';

export const AREA_LEVELS = ['province', 'district', 'commune', 'ward', 'special'] as const;

const areaEntry = z.object({
  code: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  /**
   * The kind of level (since 2025: province, then commune / ward / special zone; district for
   * older trees). How many levels a tree has, what they are called and which have police is the
   * file's business (levelName, policeUnit), not the code's.
   */
  level: z.enum(AREA_LEVELS),
  /** How people call the level ("Tỉnh", "Phường", "Xã", "Đặc khu"). */
  levelName: z.string().trim().min(1).max(60).optional(),
  /** The police unit of the area ("Công an tỉnh Lâm Đồng"); none: cases skip this level. */
  policeUnit: z.string().trim().min(1).max(200).optional(),
  parent: z.string().trim().min(1).optional(),
});
const groupEntry = z.object({
  code: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  area: z.string().trim().min(1),
  inviteCode: z
    .string()
    .transform(normaliseCode)
    .refine((c) => c.length >= 4 && c.length <= 12 && [...c].every((ch) => CODE_ALPHABET.includes(ch)), {
      message: `must be 4-12 characters from ${CODE_ALPHABET}`,
    })
    .optional(),
  joinPolicy: z.enum(['open', 'approval']).default('open'),
});
export const areaDocument = z.object({ areas: z.array(areaEntry).default([]), groups: z.array(groupEntry).default([]) });
export type AreaDocument = z.input<typeof areaDocument>;

/** One problem in an import file: where (entry path, and line for CSV) and what is expected. */
export interface ImportProblem {
  path: (string | number)[];
  field: string;
  /** An i18n key (admin:problem...) and its parameters, so the administrator reads it in their language. */
  key: string;
  params?: Record<string, unknown>;
}

export class ImportError extends Error {
  constructor(readonly problems: ImportProblem[]) {
    super(problems.map((p) => `${p.path.join('.')}.${p.field}: ${p.key} ${JSON.stringify(p.params ?? {})}`).join('\n'));
  }
}

function describeIssue(issue: z.core.$ZodIssue): { key: string; params?: Record<string, unknown> } {
  if (issue.code === 'invalid_value') return { key: 'admin:problemOneOf', params: { values: issue.values.join(', ') } };
  if (issue.code === 'too_small') return { key: 'admin:problemRequired' };
  if (issue.code === 'too_big') return { key: 'admin:problemTooLong', params: { max: Number(issue.maximum) } };
  if (issue.code === 'custom' || issue.path.includes('inviteCode')) return { key: 'admin:problemInviteCode', params: { alphabet: CODE_ALPHABET } };
  if (issue.code === 'invalid_type') return { key: 'admin:problemRequired' };
  return { key: 'admin:problemInvalid' };
}

const FIELD_NAMES: Record<string, string> = { area: 'parent', joinPolicy: 'join_policy', inviteCode: 'invite_code', levelName: 'level_name', policeUnit: 'police_unit' };

/** Problems of form (missing or wrong fields), found without touching the database. */
export function shapeProblems(input: unknown): ImportProblem[] {
  const parsed = areaDocument.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => {
    const field = String(i.path[2] ?? i.path[0] ?? '');
    return { path: i.path.slice(0, 2) as (string | number)[], field: FIELD_NAMES[field] ?? field, ...describeIssue(i) };
  });
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const entries = (input: unknown, list: 'areas' | 'groups'): Record<string, unknown>[] => {
  const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[list] : undefined;
  return Array.isArray(value) ? value.map((e) => (typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {})) : [];
};

/**
 * Problems that need the whole file or the database: a parent that is neither in the file nor
 * stored, a code given twice, an invite code another group already has. Read leniently, so they
 * are reported together with problems of form.
 */
export async function referenceProblems(db: Db, input: unknown): Promise<ImportProblem[]> {
  const areas = entries(input, 'areas');
  const groups = entries(input, 'groups');
  const known = new Set((await db.area.findMany({ select: { code: true } })).map((a) => a.code));
  const inFile = new Set(areas.map((a) => text(a.code)).filter(Boolean));
  const problems: ImportProblem[] = [];
  const seenAreas = new Set<string>();
  areas.forEach((a, i) => {
    const code = text(a.code);
    const parent = text(a.parent);
    if (code && seenAreas.has(code)) problems.push({ path: ['areas', i], field: 'code', key: 'admin:problemDuplicate', params: { code } });
    if (parent && !known.has(parent) && !seenAreas.has(parent)) problems.push({ path: ['areas', i], field: 'parent', key: 'admin:problemNoParent', params: { code: parent } });
    if (code) seenAreas.add(code);
  });
  const seenGroups = new Set<string>();
  const seenInvites = new Set<string>();
  const invites = groups.map((g) => normaliseCode(text(g.inviteCode)));
  const stored = invites.some(Boolean)
    ? await db.group.findMany({ where: { inviteCode: { in: invites.filter(Boolean) } }, select: { code: true, inviteCode: true } })
    : [];
  groups.forEach((g, i) => {
    const code = text(g.code);
    const area = text(g.area);
    const invite = invites[i]!;
    if (code && seenGroups.has(code)) problems.push({ path: ['groups', i], field: 'code', key: 'admin:problemDuplicate', params: { code } });
    if (area && !known.has(area) && !inFile.has(area)) problems.push({ path: ['groups', i], field: 'parent', key: 'admin:problemNoParent', params: { code: area } });
    if (invite) {
      const holder = stored.find((s) => s.inviteCode === invite && s.code !== code);
      if (seenInvites.has(invite)) problems.push({ path: ['groups', i], field: 'invite_code', key: 'admin:problemDuplicate', params: { code: invite } });
      else if (holder) problems.push({ path: ['groups', i], field: 'invite_code', key: 'admin:problemInviteTaken', params: { code: invite, group: holder.code } });
      seenInvites.add(invite);
    }
    if (code) seenGroups.add(code);
  });
  return problems;
}

/** Entries in file order: areas first, then groups, each by index. */
export function sortProblems(problems: ImportProblem[]): ImportProblem[] {
  const rank = (p: ImportProblem) => (p.path[0] === 'groups' ? 1_000_000 : 0) + (typeof p.path[1] === 'number' ? p.path[1] : 0);
  return [...problems].sort((a, b) => rank(a) - rank(b));
}

export async function importAreas(db: Db, input: unknown): Promise<{ areas: number; groups: number }> {
  const parsed = areaDocument.safeParse(input);
  // Every problem at once: of form, and of reference (parents, duplicates, taken invite codes).
  const problems = sortProblems([...(parsed.success ? [] : shapeProblems(input)), ...(await referenceProblems(db, input))]);
  if (!parsed.success || problems.length) throw new ImportError(problems);
  const { areas, groups } = parsed.data;

  await db.$transaction(async (tx) => {
    const ids = new Map<string, string>();
    for (const a of areas) {
      const parentId = a.parent ? (ids.get(a.parent) ?? (await tx.area.findUniqueOrThrow({ where: { code: a.parent } })).id) : null;
      const row = await tx.area.upsert({
        where: { code: a.code },
        create: { code: a.code, name: a.name, level: a.level, levelName: a.levelName ?? null, policeUnit: a.policeUnit ?? null, parentId },
        update: { name: a.name, level: a.level, levelName: a.levelName ?? null, policeUnit: a.policeUnit ?? null, parentId },
      });
      ids.set(a.code, row.id);
    }
    for (const g of groups) {
      const areaId = ids.get(g.area) ?? (await tx.area.findUniqueOrThrow({ where: { code: g.area } })).id;
      await tx.group.upsert({
        where: { code: g.code },
        create: { code: g.code, name: g.name, areaId, joinPolicy: g.joinPolicy, inviteCode: g.inviteCode ?? randomCode(7) },
        update: { name: g.name, areaId, joinPolicy: g.joinPolicy, ...(g.inviteCode ? { inviteCode: g.inviteCode } : {}) },
      });
    }
  });
  return { areas: areas.length, groups: groups.length };
}
