/**
 * A PostgreSQL schema of its own for a bench run or a test (`?schema=<name>` on the server's URL),
 * and dropping it afterwards. Shared by bench/ and test/helpers/test-app.ts; imports nothing else.
 */
import { randomBytes } from 'node:crypto';

/** A PostgreSQL URL with a new schema of its own on `server` (postgresql://...). */
export function postgresSchemaUrl(server: string, prefix = 'fanout'): string {
  const url = new URL(server);
  url.searchParams.set('schema', `${prefix}_${randomBytes(4).toString('hex')}`);
  return url.toString();
}

/** Drops the schema named by a PostgreSQL URL's `schema` parameter; nothing to do for any other URL (SQLite: the folder is removed). */
export async function dropPostgresSchema(databaseUrl: string): Promise<void> {
  if (!databaseUrl.startsWith('postgres')) return;
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (!schema) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}
