/**
 * Checks that keep the texts honest (issue 11 item 6): every key of every
 * namespace is used somewhere in src/ (no dead text that drifts out of date), and every key says the
 * same {{variables}} in Vietnamese and English (a missing one shows as a blank to somebody).
 * test/i18n.test.ts checks the other direction (keys used but missing).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LOCALES = path.join(ROOT, 'locales');
/** Every namespace: a text nobody shows drifts out of date, and may be reused with a wrong instruction. */
const CHECKED_FOR_UNUSED = readdirSync(path.join(LOCALES, 'vi')).map((f) => f.replace(/\.json$/, ''));

function sourceText(): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'generated') walk(p);
      } else if (/\.(ts|js|html)$/.test(e.name)) parts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(ROOT, 'src'));
  return parts.join('\n');
}

const load = (locale: string, ns: string) => JSON.parse(readFileSync(path.join(LOCALES, locale, `${ns}.json`), 'utf8')) as Record<string, string>;
const namespaces = readdirSync(path.join(LOCALES, 'vi')).map((f) => f.replace(/\.json$/, ''));
const vars = (text: string) => [...new Set([...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!))].sort();

describe('locale keys', () => {
  it('every key of every namespace is used in src/ (web.json labels: by chat.js)', () => {
    const code = sourceText();
    const unused: string[] = [];
    for (const ns of CHECKED_FOR_UNUSED) {
      for (const key of Object.keys(load('vi', ns))) {
        const full = `${ns}:${key}`;
        const asKey = new RegExp(`['"\`]${full.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`).test(code);
        // The web page reads its labels (web.json) by their bare name: s('send') in chat.js.
        const asPageLabel = ns === 'web' && code.includes(`s('${key}')`);
        if (!asKey && !asPageLabel) unused.push(full);
      }
    }
    expect(unused).toEqual([]);
  });

  it('every key has the same {{variables}} in Vietnamese and English', () => {
    const mismatches: string[] = [];
    for (const ns of namespaces) {
      const vi = load('vi', ns);
      const en = load('en', ns);
      for (const key of Object.keys(vi)) {
        if (en[key] === undefined) continue; // test/i18n.test.ts reports missing keys
        const a = vars(vi[key]!);
        const b = vars(en[key]!);
        if (a.join(',') !== b.join(',')) mismatches.push(`${ns}:${key} vi {${a}} en {${b}}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
