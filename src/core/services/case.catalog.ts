/** The fixed vocabularies of cases and the i18n keys that name them. */
export const CATEGORIES = ['security', 'drugs', 'fire', 'traffic', 'order', 'dispute', 'infrastructure', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories that reach the commune/ward police at once and escalate after the short timer. */
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

/** Statuses as the reporter reads them in their own view: they are the reporter. */
export const REPORTER_STATUS_KEYS: Record<string, string> = {
  new: 'cases:mine_new',
  acknowledged: 'cases:status_acknowledged',
  waiting_reporter: 'cases:mine_waiting_reporter',
  resolved: 'cases:mine_resolved',
  closed: 'cases:status_closed',
  reopened: 'cases:mine_reopened',
  duplicate: 'cases:status_duplicate',
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

/**
 * Where a case is: with the group's leaders ('group'), or with the police of an area ('area',
 * Case.handlingAreaId). Which areas have police and how many there are is data (Area.policeUnit):
 * since 2025 the commune/ward police, then the provincial police.
 */
export const CASE_LEVELS = ['group', 'area'] as const;
export type CaseLevel = (typeof CASE_LEVELS)[number];

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}
