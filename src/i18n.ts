/**
 * Every text a person reads comes from locales/<lang>/<namespace>.json through i18next.
 * Keys are written in code as "namespace:key" literals so a test can find them all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root.js';
import i18next, { type i18n } from 'i18next';
import type { Translator, Locale } from './core/ports/translator.js';

export const LOCALES_DIR = path.join(PROJECT_ROOT, 'locales');

export type Resources = Record<string, Record<string, Record<string, string>>>;

/** Reads locales/<lang>/<ns>.json into { lang: { ns: { key: text } } }. */
export function loadResources(dir = LOCALES_DIR): Resources {
  const resources: Resources = {};
  for (const lang of readdirSync(dir)) {
    resources[lang] = {};
    for (const file of readdirSync(path.join(dir, lang)).filter((f) => f.endsWith('.json'))) {
      resources[lang]![file.replace(/\.json$/, '')] = JSON.parse(readFileSync(path.join(dir, lang, file), 'utf8'));
    }
  }
  return resources;
}

export function createTranslator(defaultLocale: Locale = 'vi', resources = loadResources()): Translator {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    initImmediate: false,
    resources,
    lng: defaultLocale,
    fallbackLng: defaultLocale,
    ns: Object.keys(resources[defaultLocale] ?? {}),
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    showSupportNotice: false,
  });
  const fixed = new Map<Locale, ReturnType<i18n['getFixedT']>>();
  // A text without parameters is the same every time (the resources never change once loaded):
  // looked up once per locale and key, not on every update (a menu asks for a dozen).
  const plain = new Map<string, string>();
  return {
    defaultLocale,
    t(locale, key, params) {
      const cacheKey = params === undefined ? `${locale}\u0000${key}` : undefined;
      if (cacheKey !== undefined) {
        const hit = plain.get(cacheKey);
        if (hit !== undefined) return hit;
      }
      let tr = fixed.get(locale);
      if (!tr) {
        tr = instance.getFixedT(locale);
        fixed.set(locale, tr);
      }
      const text = tr(key, params ?? {}) as string;
      if (cacheKey !== undefined && plain.size < 10_000) plain.set(cacheKey, text);
      return text;
    },
  };
}
