/** The vocabularies of alerts (categories and CAP-style severities) and their i18n keys, and who sent one. */
import type { Db } from './db.js';
import type { ActorService } from './actor.service.js';

export const ALERT_CATEGORIES = ['security', 'fire', 'flood', 'health', 'traffic', 'other'] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

export const ALERT_CATEGORY_KEYS: Record<AlertCategory, string> = {
  security: 'alerts:cat_security',
  fire: 'alerts:cat_fire',
  flood: 'alerts:cat_flood',
  health: 'alerts:cat_health',
  traffic: 'alerts:cat_traffic',
  other: 'alerts:cat_other',
};

export const SEVERITIES = ['extreme', 'severe', 'moderate', 'minor'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_KEYS: Record<Severity, string> = {
  extreme: 'alerts:sev_extreme',
  severe: 'alerts:sev_severe',
  moderate: 'alerts:sev_moderate',
  minor: 'alerts:sev_minor',
};

/** The severity as the alert's header words it ("mức cao"); SEVERITY_KEYS are the picker's labels. */
export const SEVERITY_LEVEL_KEYS: Record<Severity, string> = {
  extreme: 'alerts:level_extreme',
  severe: 'alerts:level_severe',
  moderate: 'alerts:level_moderate',
  minor: 'alerts:level_minor',
};

export const ANSWERS = { r: 'received', s: 'safe', h: 'need_help' } as const;
export type AnswerCode = keyof typeof ANSWERS;

/** The case category a "need help" answer opens, by alert category. */
export const HELP_CASE_CATEGORY: Record<AlertCategory, 'security' | 'fire' | 'other' | 'traffic' | 'infrastructure'> = {
  security: 'security',
  fire: 'fire',
  flood: 'infrastructure',
  health: 'other',
  traffic: 'traffic',
  other: 'other',
};

export function isAlertCategory(v: string): v is AlertCategory {
  return (ALERT_CATEGORIES as readonly string[]).includes(v);
}
export function isSeverity(v: string): v is Severity {
  return (SEVERITIES as readonly string[]).includes(v);
}

/** "2h", "90m", "3d", "1 giờ", "30 phút", "2 ngày" -> milliseconds (5 minutes to 30 days), else undefined. */
export function parseDuration(typed: string): number | undefined {
  // Accents optional ("2 tieng", "3 ngay"): many people type without them.
  const plain = typed.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
  const m = /^\s*(\d{1,4})\s*(m|min|mins|minutes?|phut|p|h|hr|hrs|hours?|gio|g|tieng|d|days?|ngay|w|weeks?|tuan)\s*$/.exec(plain);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2]!;
  const ms = /^(m|min|mins|minute|minutes|phut|p)$/.test(unit)
    ? n * 60_000
    : /^(h|hr|hrs|hour|hours|gio|g|tieng)$/.test(unit)
      ? n * 3_600_000
      : /^(w|week|weeks|tuan)$/.test(unit)
        ? n * 7 * 86_400_000
        : n * 86_400_000;
  return ms >= 5 * 60_000 && ms <= 30 * 86_400_000 ? ms : undefined;
}

/**
 * Who sent an alert, as residents read it (issue 11 item 4): an alert from the group's own
 * leader and one from the ward police must not look alike. One entry per role held.
 */
export type AlertSender = Array<{ role: 'leader' | 'deputy' | 'officer' | 'admin'; unit: string }>;

/** The name of an area's police: the imported unit, or the usual name built from the area's own (a proper name in the data's language). */
export function policeUnitOf(area: { name: string; policeUnit: string | null }): string {
  return area.policeUnit ?? `Công an ${area.name.charAt(0).toLocaleLowerCase('vi')}${area.name.slice(1)}`;
}

/**
 * The sender of an alert to these groups: the leader or deputy of each group they lead when
 * they lead them all; otherwise the police unit of their officer area nearest to the groups;
 * otherwise an administrator. Undefined for a sender who deleted their data.
 */
export async function alertSenderOf(db: Db, actors: ActorService, senderId: string | null | undefined, groupIds: string[]): Promise<AlertSender | undefined> {
  if (!senderId || !groupIds.length) return undefined;
  const actor = await actors.actor(senderId);
  const groups = await db.group.findMany({ where: { id: { in: groupIds } }, select: { id: true, name: true, areaId: true }, orderBy: { name: 'asc' } });
  if (!groups.length) return undefined;
  const roleIn = (groupId: string) => actor.memberships.find((m) => m.groupId === groupId && m.role !== 'member')?.role;
  if (groups.every((g) => roleIn(g.id))) return groups.map((g) => ({ role: roleIn(g.id) === 'leader' ? 'leader' : 'deputy', unit: g.name }));
  if (actor.officerAreaIds.length) {
    const chain = await actors.areaChain(groups[0]!.areaId);
    const areaId = chain.find((id) => actor.officerAreaIds.includes(id));
    const area = areaId ? await db.area.findUnique({ where: { id: areaId }, select: { name: true, policeUnit: true } }) : null;
    if (area) return [{ role: 'officer', unit: policeUnitOf(area) }];
  }
  if (actor.admin) return [{ role: 'admin', unit: '' }];
  return undefined;
}

const SENDER_KEYS = { leader: 'alerts:senderLeader', deputy: 'alerts:senderDeputy', officer: 'alerts:senderOfficer', admin: 'alerts:senderAdmin' } as const;

/** "Người gửi: Tổ trưởng Tổ dân phố số 1", or nothing when the sender is unknown. */
export function senderLine(sender: AlertSender | undefined, t: (key: string, params?: Record<string, unknown>) => string): string | undefined {
  if (!sender?.length) return undefined;
  return t('alerts:sentBy', { sender: sender.map((s) => t(SENDER_KEYS[s.role], { unit: s.unit })).join(', ') });
}
