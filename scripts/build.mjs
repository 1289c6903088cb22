/**
 * `npm run build`: bundles src/ (TypeScript) and the packages it uses into dist/src/main.js (and the
 * image re-encoder's dist/src/media/reencode-worker.js), ES modules, so `npm start` runs plain
 * JavaScript, compiles nothing and resolves almost no module at start-up. Type checking is
 * `npm run typecheck`'s job, not the build's: a build never fails on a type error.
 *
 * Why one bundle: the service's start-up was mostly Node's module loader (resolving, reading and
 * compiling some 600 files of src/ and node_modules/ one by one, each CommonJS package scanned for
 * its exports). One file cuts that to one read and one compile (see docs/design-notes.md, start-up).
 * What stays outside the bundle: native addons (better-sqlite3, sharp), and what only some starts
 * need, loaded when first used (pg and Prisma's PostgreSQL adapter, exceljs for the console's
 * spreadsheet export). Code that a dynamic import() reaches (the PostgreSQL client, its prepared
 * statements) goes into chunks of its own under dist/src/chunks/, read only when imported.
 *
 * Prisma's query compiler (WebAssembly) ships in @prisma/client as a 2.5 MB JavaScript module
 * holding the binary as base64: importing and decoding it cost more than compiling it. The build
 * writes the binary itself to dist/prisma/ once, and the generated client is pointed at that file
 * (compiled with WebAssembly.compile, off the main thread).
 *
 * With --if-stale it does nothing when dist/ is newer than every file under src/ and this script
 * (npm start runs it that way, so a changed source is never run stale and an unchanged one costs a
 * few stat calls). `npm install` (postinstall) always builds, so new package versions are bundled.
 */
import { readdirSync, statSync, existsSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist');
const stamp = path.join(out, '.built');
const self = fileURLToPath(import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (
  process.argv.includes('--if-stale') &&
  existsSync(stamp) &&
  statSync(stamp).mtimeMs >= Math.max(newestSource(src), statSync(self).mtimeMs)
) {
  process.exit(0);
}
// Loaded only when there is something to build: the check above is npm start's every start.
const { build } = await import('esbuild');

/** Packages left to Node at run time: native addons, and what is imported only when first needed. */
const EXTERNAL = ['better-sqlite3', 'sharp', 'pg', 'pg-native', '@prisma/adapter-pg', 'exceljs'];

/**
 * The generated clients (src/generated/prisma*, internal/class.ts) import the query compiler as
 * base64 and decode it; this points them at the binary written next to the bundle instead.
 */
const WASM_IMPORT = /const \{ wasm \} = await import\("@prisma\/client\/runtime\/(query_compiler_bg\.(\w+))\.wasm-base64\.mjs"\)\s*\n\s*return await decodeBase64AsWasm\(wasm\)/;
const wasmFiles = new Map();
const prismaWasmFiles = {
  name: 'prisma-wasm-files',
  setup(b) {
    b.onLoad({ filter: /[\\/]generated[\\/]prisma[^\\/]*[\\/]internal[\\/]class\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      const found = WASM_IMPORT.exec(text);
      if (!found) {
        // A Prisma version that loads its compiler differently: bundle it as it is (slower start, same behaviour).
        return { contents: text, loader: 'ts', warnings: [{ text: `${path.relative(root, args.path)}: Prisma's query compiler import not recognised; left as base64` }] };
      }
      const [, base, engine] = found;
      wasmFiles.set(engine, base);
      // This code ends up in dist/src/main.js or in a chunk under dist/src/chunks/; the binary is in dist/prisma/.
      const load = [
        `const { readFile } = await import('node:fs/promises')`,
        `const up = import.meta.url.includes('/src/chunks/') ? '../../' : '../'`,
        `return await WebAssembly.compile(await readFile(new URL(up + ${JSON.stringify(`prisma/${base}.wasm`)}, import.meta.url)))`,
      ].join('\n    ');
      return { contents: text.replace(WASM_IMPORT, load), loader: 'ts' };
    });
  },
};

/**
 * node-fetch 2 (grammY's HTTP client on Node) requires whatwg-url, which loads tr46's 300 KB
 * Unicode table at start-up, only to fall back to it where Node has no URL class (`Url.URL ||
 * whatwgUrl.URL`): Node always has one, so node-fetch gets Node's own URL classes here.
 */
const nodeFetchUrl = {
  name: 'node-fetch-url',
  setup(b) {
    b.onResolve({ filter: /^whatwg-url$/ }, (args) =>
      /[\\/]node-fetch[\\/]/.test(args.importer) ? { path: 'whatwg-url', namespace: 'node-url' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({
      contents: 'module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };',
      loader: 'js',
    }));
  },
};

const started = Date.now();
// Built beside dist/ and swapped in at the end: a service starting meanwhile (or one loading a
// chunk on first use) never meets a half-written or missing dist/.
const next = `${out}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'src/main': 'src/main.ts', 'src/media/reencode-worker': 'src/media/reencode-worker.ts' },
  outdir: next,
  bundle: true,
  splitting: true,
  chunkNames: 'src/chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // One scope for every module renames clashing names (two packages' AbortSignal classes): keep the
  // names functions and classes report, which libraries check (node-fetch: `constructor.name ===
  // 'AbortSignal'`) and logs show (an error's type).
  keepNames: true,
  plugins: [prismaWasmFiles, nodeFetchUrl],
  // Bundled CommonJS packages call require() for Node's own modules; ES modules have none.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});

// The query compilers the bundle loads, as binaries (see above).
mkdirSync(path.join(next, 'prisma'), { recursive: true });
for (const base of new Set(wasmFiles.values())) {
  const module = path.join(root, 'node_modules', '@prisma', 'client', 'runtime', `${base}.wasm-base64.mjs`);
  const { wasm } = await import(pathToFileURL(module).href);
  writeFileSync(path.join(next, 'prisma', `${base}.wasm`), Buffer.from(wasm, 'base64'));
}
writeFileSync(path.join(next, '.built'), new Date().toISOString());
const previous = `${out}.old-${process.pid}`;
if (existsSync(out)) renameSync(out, previous);
renameSync(next, out);
rmSync(previous, { recursive: true, force: true });
process.stdout.write(`bundled src/ into dist/ in ${Date.now() - started} ms\n`);
