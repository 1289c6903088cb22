/**
 * Loads an area tree and its residential groups from a JSON document
 * ({ areas: [{code,name,level,parent?}], groups: [{code,name,area,inviteCode?,joinPolicy?}] }).
 * Existing codes are updated, new ones created, in one transaction; errors name the entry and field.
 */
import { z } from 'zod';
import type { Db } from '../core/services/db.js';
import { CODE_ALPHABET, normaliseCode, randomCode } from '../core/codes.js';

const areaEntry = z.object({
  code: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  level: z.enum(['province', 'district', 'ward']),
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

export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export async function importAreas(db: Db, input: unknown): Promise<{ areas: number; groups: number }> {
  const parsed = areaDocument.safeParse(input);
  if (!parsed.success) {
    throw new ImportError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const { areas, groups } = parsed.data;
  const known = new Set((await db.area.findMany({ select: { code: true } })).map((a) => a.code));
  const problems: string[] = [];
  areas.forEach((a, i) => {
    if (a.parent && !known.has(a.parent) && !areas.slice(0, i).some((b) => b.code === a.parent)) {
      problems.push(`areas.${i}.parent: no area "${a.parent}" above this entry`);
    }
  });
  groups.forEach((g, i) => {
    if (!known.has(g.area) && !areas.some((a) => a.code === g.area)) problems.push(`groups.${i}.area: no area "${g.area}"`);
  });
  if (problems.length) throw new ImportError(problems);

  await db.$transaction(async (tx) => {
    const ids = new Map<string, string>();
    for (const a of areas) {
      const parentId = a.parent ? (ids.get(a.parent) ?? (await tx.area.findUniqueOrThrow({ where: { code: a.parent } })).id) : null;
      const row = await tx.area.upsert({
        where: { code: a.code },
        create: { code: a.code, name: a.name, level: a.level, parentId },
        update: { name: a.name, level: a.level, parentId },
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
