/**
 * Writes prisma/postgres/schema.prisma from prisma/schema.prisma: the same models for
 * PostgreSQL, generated into src/generated/prisma-pg. Run after changing the schema:
 *   npx tsx scripts/derive-postgres-schema.ts
 * A test fails when the committed copy and this derivation differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function derivePostgresSchema(sqliteSchema: string): string {
  return (
    '// GENERATED from prisma/schema.prisma by scripts/derive-postgres-schema.ts: do not edit.\n' +
    sqliteSchema
      .replace('provider = "sqlite"', 'provider = "postgresql"')
      .replace(/url\s+=\s+"file:[^"]*"/, 'url      = env("DATABASE_URL")')
      .replace('output     = "../src/generated/prisma"', 'output     = "../../src/generated/prisma-pg"')
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const source = readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
  writeFileSync(path.join(root, 'prisma', 'postgres', 'schema.prisma'), derivePostgresSchema(source));
  process.stdout.write('wrote prisma/postgres/schema.prisma\n');
}
