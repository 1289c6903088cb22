import type { Db, Area, Group } from './db.js';

export function createAreaService(db: Db) {
  return {
    /** Top-level areas when parentId is null, else the children of that area, by name. */
    children(parentId: string | null): Promise<Area[]> {
      return db.area.findMany({ where: { parentId }, orderBy: { name: 'asc' } });
    },
    get(id: string): Promise<Area | null> {
      return db.area.findUnique({ where: { id } });
    },
    groupsIn(areaId: string): Promise<Group[]> {
      return db.group.findMany({ where: { areaId }, orderBy: { name: 'asc' } });
    },
    /** The ids of an area and all its ancestors, nearest first. */
    async ancestry(areaId: string): Promise<Area[]> {
      const chain: Area[] = [];
      let current = await db.area.findUnique({ where: { id: areaId } });
      while (current && chain.length < 10) {
        chain.push(current);
        current = current.parentId ? await db.area.findUnique({ where: { id: current.parentId } }) : null;
      }
      return chain;
    },
    async isEmpty(): Promise<boolean> {
      return (await db.area.count()) === 0;
    },
  };
}

export type AreaService = ReturnType<typeof createAreaService>;
