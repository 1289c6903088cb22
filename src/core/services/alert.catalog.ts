/** The vocabularies of alerts (categories and CAP-style severities) and their i18n keys. */
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
