/** Loads what the authorization policy needs about a person and about areas. */
import type { Actor } from '../authz/policy.js';
import type { Db } from './db.js';

export function createActorService(db: Db) {
  async function areaChain(areaId: string): Promise<string[]> {
    const chain: string[] = [];
    let id: string | null = areaId;
    while (id && chain.length < 10) {
      chain.push(id);
      const row: { parentId: string | null } | null = await db.area.findUnique({ where: { id }, select: { parentId: true } });
      id = row?.parentId ?? null;
    }
    return chain;
  }

  return {
    async actor(personId: string): Promise<Actor> {
      const [memberships, grants] = await Promise.all([
        db.membership.findMany({ where: { personId, state: 'active' }, select: { groupId: true, role: true } }),
        db.roleGrant.findMany({ where: { personId, revokedAt: null }, select: { role: true, areaId: true } }),
      ]);
      return {
        personId,
        memberships: memberships.map((m) => ({ groupId: m.groupId, role: m.role as Actor['memberships'][number]['role'] })),
        officerAreaIds: grants.filter((g) => g.role === 'officer' && g.areaId).map((g) => g.areaId!),
        admin: grants.some((g) => g.role === 'admin'),
      };
    },

    areaChain,

    /** The given areas and every area below them. */
    async descendants(areaIds: string[]): Promise<string[]> {
      const all = new Set(areaIds);
      let frontier = [...areaIds];
      while (frontier.length) {
        const children = await db.area.findMany({ where: { parentId: { in: frontier } }, select: { id: true } });
        frontier = children.map((c) => c.id).filter((id) => !all.has(id));
        frontier.forEach((id) => all.add(id));
      }
      return [...all];
    },
  };
}

export type ActorService = ReturnType<typeof createActorService>;
