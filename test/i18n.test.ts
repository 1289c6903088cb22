/**
 * The translations are complete and consistent: both languages have the same keys, no empty
 * texts, the same {{placeholders}}, Vietnamese that is really Vietnamese, and every key the
 * code uses exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadResources, LOCALES_DIR, type Resources } from '../src/i18n.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');
const LANGS = ['vi', 'en'] as const;

const resources = loadResources(LOCALES_DIR);
const namespaces = new Set(LANGS.flatMap((lang) => Object.keys(resources[lang] ?? {})));

// ---------------------------------------------------------------------------------------------
// The key scanner
// ---------------------------------------------------------------------------------------------

interface KeyUse {
  key: string;
  file: string;
  line: number;
  /** How it was recognised: an argument of t(), a *Key property, or any other place a key can travel. */
  how: 'call' | 'keyProperty' | 'other';
}

interface KeyScan {
  uses: KeyUse[];
  /** t(`ns:${x}`): keys built at run time, which no test can check. */
  dynamic: { text: string; file: string; line: number }[];
}

const KEY_LITERAL = /^([a-z]+):([A-Za-z0-9_]+)$/;
/** Properties that hold choice ids or command names, never translation keys. */
const ID_PROPERTIES = new Set(['id', 'choice', 'action', 'command', 'goto', 'flow', 'step', 'name']);
/** Methods that test or look up ids ('x'.startsWith('menu:'), map.get('menu:groups'), ...). */
const ID_METHODS = new Set(['startsWith', 'endsWith', 'includes', 'get', 'has', 'set', 'indexOf', 'delete']);
const COMPARISONS = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

function isTCall(call: ts.CallExpression): boolean {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text === 't';
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text === 't';
  return false;
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/**
 * Climbs through the expressions a key passes through unchanged on its way to where it is
 * used: (parentheses), a ? b : c, a ?? b, a || b, `as` casts.
 */
function usingParent(node: ts.Node): { parent: ts.Node; child: ts.Node } {
  let child: ts.Node = node;
  let parent = node.parent;
  for (;;) {
    if (ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent)) {
      // fall through to climb
    } else if (ts.isConditionalExpression(parent) && child !== parent.condition) {
      // fall through
    } else if (
      ts.isBinaryExpression(parent) &&
      (parent.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || parent.operatorToken.kind === ts.SyntaxKind.BarBarToken)
    ) {
      // fall through
    } else {
      return { parent, child };
    }
    child = parent;
    parent = parent.parent;
  }
}

/**
 * Finds the translation keys used in one TypeScript source. A string literal "ns:key" counts
 * when ns is a locales file name and the literal is not in a place where choice ids and
 * command names go (`id:`/`choice:` properties, `===`/`!==` comparisons, `case`, startsWith...).
 * That covers t('ns:key'), ctx.t(...), translator.t(locale, 'ns:key'), both arms of a ternary
 * inside t(), labelKey/…Key properties, and keys kept in tables ({ province: 'ns:key' },
 * [['start', 'ns:key']]) before they reach t(). Comments are not code, so they are ignored.
 */
function scanKeys(source: string, file: string, knownNamespaces: Set<string>): KeyScan {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const scan: KeyScan = { uses: [], dynamic: [] };
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

  function classify(node: ts.Node): KeyUse['how'] | undefined {
    const { parent, child } = usingParent(node);
    if (ts.isCallExpression(parent) && parent.arguments.includes(child as ts.Expression)) {
      if (isTCall(parent)) return 'call';
      const callee = parent.expression;
      if (ts.isPropertyAccessExpression(callee) && ID_METHODS.has(callee.name.text)) return undefined;
      return 'other';
    }
    if (ts.isPropertyAssignment(parent) && parent.initializer === child) {
      const name = propertyName(parent.name);
      if (name && /Key$/.test(name)) return 'keyProperty';
      if (name && ID_PROPERTIES.has(name)) return undefined;
      return 'other';
    }
    if (ts.isBinaryExpression(parent) && COMPARISONS.has(parent.operatorToken.kind)) return undefined;
    if (ts.isCaseClause(parent)) return undefined;
    if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isExternalModuleReference(parent)) return undefined;
    if (ts.isLiteralTypeNode(parent)) return undefined;
    return 'other';
  }

  function visit(node: ts.Node) {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const m = KEY_LITERAL.exec(node.text);
      if (m && knownNamespaces.has(m[1]!)) {
        const how = classify(node);
        if (how) scan.uses.push({ key: node.text, file, line: lineOf(node), how });
      }
    } else if (ts.isTemplateExpression(node)) {
      const m = /^([a-z]+):/.exec(node.head.text);
      const { parent, child } = usingParent(node);
      if (m && knownNamespaces.has(m[1]!) && ts.isCallExpression(parent) && isTCall(parent) && parent.arguments.includes(child as ts.Expression)) {
        scan.dynamic.push({ text: node.getText(sf), file, line: lineOf(node) });
      }
    }
    ts.forEachChild(node, visit);
  }
  visit(sf);
  return scan;
}

/** The uses whose key is missing from some language. */
function missingKeys(uses: KeyUse[], res: Resources, langs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const use of uses) {
    const [ns, key] = use.key.split(':') as [string, string];
    for (const lang of langs) {
      if (typeof res[lang]?.[ns]?.[key] !== 'string') problems.push(`${use.file}:${use.line} uses "${use.key}", missing in locales/${lang}/${ns}.json`);
    }
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'generated' && entry.name !== 'node_modules') out.push(...sourceFiles(full));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([\w.]+)\s*(?:,[^}]*)?\}\}/g)].map((m) => m[1]!).sort();
}

const VI_MARKS = /[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]/;

// ---------------------------------------------------------------------------------------------

describe('the key scanner', () => {
  const ns = new Set(['common', 'menu', 'onboarding']);
  const sample = `
    // 'common:inAComment' is not code
    const LEVEL = { province: 'onboarding:chooseProvince' };
    const MENU: Array<[string, string]> = [['start', 'menu:cmd_start']];
    export const f = (ctx, id, ok, translator) => {
      if (id === 'menu:groups' || id.startsWith('menu:')) return;
      switch (id) { case 'menu:help': break; }
      const row = [{ id: 'menu:groups', label: ctx.t('menu:myGroups') }, { id: 'lang:vi', label: t("common:yes") }];
      const item = { action: 'groups', labelKey: 'menu:language' };
      translator.t('vi', ok ? 'common:cancelled' : (\`common:nothingToCancel\`));
      t(LEVEL[id] ?? 'onboarding:chooseWard');
      t('common:doesNotExist');
      t(\`menu:state_\${id}\`);
      import('node:fs');
    };
  `;
  const scan = scanKeys(sample, 'sample.ts', ns);
  const found = (how?: KeyUse['how']) => scan.uses.filter((u) => !how || u.how === how).map((u) => u.key).sort();

  it('finds keys in t() calls, *Key properties and key tables', () => {
    expect(found('call')).toEqual(
      ['common:cancelled', 'common:doesNotExist', 'common:nothingToCancel', 'common:yes', 'menu:myGroups', 'onboarding:chooseWard'].sort(),
    );
    expect(found('keyProperty')).toEqual(['menu:language']);
    expect(found('other')).toEqual(['menu:cmd_start', 'onboarding:chooseProvince']);
  });

  it('leaves out choice ids, comparisons, comments and other namespaces', () => {
    const all = found();
    for (const notAKey of ['menu:groups', 'menu:help', 'lang:vi', 'common:inAComment', 'node:fs']) expect(all).not.toContain(notAKey);
  });

  it('reports keys built at run time', () => {
    expect(scan.dynamic.map((d) => d.text)).toEqual(['`menu:state_${id}`']);
  });

  it('reports a key that is missing, with where it is used', () => {
    const res: Resources = {
      vi: { common: { yes: 'Có', cancelled: 'Đã hủy', nothingToCancel: 'x' }, menu: { myGroups: 'x', language: 'x', cmd_start: 'x' }, onboarding: { chooseProvince: 'x', chooseWard: 'x' } },
      en: { common: { yes: 'Yes', cancelled: 'x', nothingToCancel: 'x' }, menu: { myGroups: 'x', language: 'x', cmd_start: 'x' }, onboarding: { chooseProvince: 'x' } },
    };
    expect(missingKeys(scan.uses, res, ['vi', 'en'])).toEqual([
      'sample.ts:11 uses "onboarding:chooseWard", missing in locales/en/onboarding.json',
      'sample.ts:12 uses "common:doesNotExist", missing in locales/vi/common.json',
      'sample.ts:12 uses "common:doesNotExist", missing in locales/en/common.json',
    ]);
  });
});

describe('locales', () => {
  it('has the same namespaces in every language', () => {
    expect(Object.keys(resources).sort()).toEqual([...LANGS].sort());
    expect(Object.keys(resources.vi!).sort()).toEqual(Object.keys(resources.en!).sort());
    expect(namespaces.size).toBeGreaterThan(0);
  });

  it('has the same keys in Vietnamese and English', () => {
    const problems: string[] = [];
    for (const ns of namespaces) {
      for (const [from, to] of [['vi', 'en'], ['en', 'vi']] as const) {
        for (const key of Object.keys(resources[from]?.[ns] ?? {})) {
          if (!(key in (resources[to]?.[ns] ?? {}))) problems.push(`${ns}:${key} is in ${from} but not in ${to}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no empty or non-text values', () => {
    const problems: string[] = [];
    for (const lang of LANGS) {
      for (const [ns, entries] of Object.entries(resources[lang]!)) {
        for (const [key, value] of Object.entries(entries)) {
          if (typeof value !== 'string' || value.trim() === '') problems.push(`${lang}/${ns}:${key}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses the same {{placeholders}} in both languages', () => {
    const problems: string[] = [];
    for (const ns of namespaces) {
      for (const [key, vi] of Object.entries(resources.vi?.[ns] ?? {})) {
        const en = resources.en?.[ns]?.[key];
        if (typeof en !== 'string') continue;
        const a = placeholders(vi).join(',');
        const b = placeholders(en).join(',');
        if (a !== b) problems.push(`${ns}:${key}: vi has {{${a}}}, en has {{${b}}}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('writes Vietnamese with its diacritics', () => {
    const withLetters = Object.entries(resources.vi!).flatMap(([ns, entries]) =>
      Object.entries(entries)
        .filter(([, v]) => /\p{L}/u.test(v))
        .map(([key, v]) => ({ key: `${ns}:${key}`, v })),
    );
    const plain = withLetters.filter(({ v }) => !VI_MARKS.test(v.toLowerCase()));
    const share = 1 - plain.length / withLetters.length;
    expect(share, `vi texts without any Vietnamese diacritic: ${plain.map((p) => `${p.key} = ${JSON.stringify(p.v)}`).join('; ')}`).toBeGreaterThanOrEqual(0.8);
  });
});

describe('keys used in the code', () => {
  const files = sourceFiles(SRC);
  const scans = files.map((file) => scanKeys(readFileSync(file, 'utf8'), path.relative(ROOT, file), namespaces));
  const uses = scans.flatMap((s) => s.uses);

  it('finds the keys the code uses', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(new Set(uses.map((u) => u.key)).size).toBeGreaterThan(20);
    expect(uses.some((u) => u.how === 'call')).toBe(true);
  });

  it('every key used in src/ exists in both languages', () => {
    expect(missingKeys(uses, resources, LANGS)).toEqual([]);
  });

  it('builds no keys at run time (write them as literals so this test can check them)', () => {
    expect(scans.flatMap((s) => s.dynamic).map((d) => `${d.file}:${d.line} ${d.text}`)).toEqual([]);
  });

  it('every label the web page asks for exists in web.json of both languages', () => {
    const script = readFileSync(path.join(SRC, 'channels', 'web', 'assets', 'chat.js'), 'utf8');
    const keys = [...new Set([...script.matchAll(/\bs\(\s*'([A-Za-z0-9_]+)'\s*\)/g)].map((m) => m[1]!))];
    expect(keys.length).toBeGreaterThan(3);
    const missing = keys.flatMap((key) => LANGS.filter((lang) => typeof resources[lang]?.web?.[key] !== 'string').map((lang) => `${lang}/web:${key}`));
    expect(missing).toEqual([]);
  });
});
