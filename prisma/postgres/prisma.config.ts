/**
 * Prisma CLI configuration for PostgreSQL (generate the PostgreSQL client, write new
 * PostgreSQL migrations with `migrate diff`). The service applies the migrations itself.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

const anyExistingFile = fileURLToPath(import.meta.url);
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= anyExistingFile;
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= anyExistingFile;
process.env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(path.dirname(anyExistingFile), 'schema.prisma'),
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' });
  },
});
