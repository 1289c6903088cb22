export type Locale = 'vi' | 'en';
export const LOCALES: readonly Locale[] = ['vi', 'en'];

export function asLocale(value: string | null | undefined, fallback: Locale): Locale {
  return value === 'vi' || value === 'en' ? value : fallback;
}

export interface Translator {
  readonly defaultLocale: Locale;
  t(locale: Locale, key: string, params?: Record<string, unknown>): string;
}
