/** The fixed vocabularies of cases and the i18n keys that name them. */
export const CATEGORIES = ['security', 'drugs', 'fire', 'traffic', 'order', 'dispute', 'infrastructure', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories that reach the ward police at once and escalate after the short timer. */
export const POLICE_CATEGORIES: ReadonlySet<string> = new Set(['security', 'drugs', 'fire']);

export const CATEGORY_KEYS: Record<Category, string> = {
  security: 'report:cat_security',
  drugs: 'report:cat_drugs',
  fire: 'report:cat_fire',
  traffic: 'report:cat_traffic',
  order: 'report:cat_order',
  dispute: 'report:cat_dispute',
  infrastructure: 'report:cat_infrastructure',
  other: 'report:cat_other',
};

export const STATUS_KEYS: Record<string, string> = {
  new: 'cases:status_new',
  acknowledged: 'cases:status_acknowledged',
  waiting_reporter: 'cases:status_waiting_reporter',
  resolved: 'cases:status_resolved',
  closed: 'cases:status_closed',
  reopened: 'cases:status_reopened',
  duplicate: 'cases:status_duplicate',
};

export const LEVEL_KEYS: Record<string, string> = {
  group: 'cases:level_group',
  ward: 'cases:level_ward',
  district: 'cases:level_district',
};

export const NEXT_LEVEL: Record<string, 'ward' | 'district' | undefined> = { group: 'ward', ward: 'district', district: undefined };

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}
