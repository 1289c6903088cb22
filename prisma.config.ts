/**
 * Prisma CLI configuration. The project runs Prisma 6.19 with the JavaScript schema
 * engine and a driver adapter, because the native engines cannot be downloaded on
 * machines that reach only the package registries. The CLI still probes for native
 * engine files it never runs, so point those probes at a file that exists.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

const anyExistingFile = fileURLToPath(import.meta.url);
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= anyExistingFile;
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= anyExistingFile;
process.env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';

const root = path.dirname(anyExistingFile);
const url = process.env.DATABASE_URL ?? `file:${path.join(root, 'data', 'bot.db')}`;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(root, 'prisma', 'schema.prisma'),
  async adapter() {
    // The CLI opens the database even for `migrate diff`; make sure its folder exists.
    if (url.startsWith('file:')) mkdirSync(path.dirname(path.resolve(url.slice(5))), { recursive: true });
    return new PrismaBetterSQLite3({ url });
  },
});
