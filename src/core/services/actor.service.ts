/** Loads what the authorization policy needs about a person and about areas. */
import type { Actor } from '../authz/policy.js';
import type { Db } from './db.js';
import { createHotPath, sqlRunnerOf } from '../../persistence/hot-path.js';

export function createActorService(db: Db) {
  const hot = createHotPath(sqlRunnerOf(db));
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
    /**
     * What the policy needs about a person. Roles never rest on a bearer string alone: a person
     * whose only accounts are web chat sessions acts as a resident (leader/deputy memberships
     * count as plain membership, no officer areas, no admin) until a Telegram or Zalo account is
     * linked to them (/link), which makes the web session and the messenger one person.
     */
    async actor(personId: string): Promise<Actor> {
      // One statement: memberships ('m'), standing grants ('g') and messenger accounts ('a').
      const rows = await hot.actorRows(personId);
      const memberships = rows.filter((r) => r.kind === 'm');
      const grants = rows.filter((r) => r.kind === 'g');
      const verified = rows.some((r) => r.kind === 'a');
      return {
        personId,
        memberships: memberships.map((m) => ({ groupId: m.ref!, role: verified ? (m.role as Actor['memberships'][number]['role']) : 'member' })),
        officerAreaIds: verified ? grants.filter((g) => g.role === 'officer' && g.ref).map((g) => g.ref!) : [],
        admin: verified && grants.some((g) => g.role === 'admin'),
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
