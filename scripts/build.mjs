/**
 * `npm run build`: transpiles src/ (TypeScript) to dist/src/ (JavaScript, ES modules), one file per
 * file, so `npm start` runs plain JavaScript and compiles nothing at start-up. Type checking is
 * `npm run typecheck`'s job, not the build's: a build never fails on a type error.
 *
 * With --if-stale it does nothing when dist/ is newer than every file under src/ (npm start runs
 * it that way, so a changed source is never run stale and an unchanged one costs a few stat calls).
 */
import { readdirSync, statSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const out = path.join(root, 'dist');
const stamp = path.join(out, '.built');

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(src)) process.exit(0);

const started = Date.now();
const entryPoints = sources(src);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
writeFileSync(stamp, new Date().toISOString());
process.stdout.write(`built ${entryPoints.length} files into dist/ in ${Date.now() - started} ms\n`);
