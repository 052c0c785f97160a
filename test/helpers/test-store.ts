// A fresh, migrated store per test file: a temporary SQLite file, or a PostgreSQL schema of its
// own on the real server (TEST_POSTGRES_URL, default the local `test` database), dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';

export const TEST_DB = (process.env.GATEHOUSE_TEST_DB ?? 'sqlite') as 'sqlite' | 'postgres';
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  url: string;
  store: Store;
  /** Opens another connection to the same database (as a second process would). */
  reopen(): Store;
  drop(): Promise<void>;
}

export async function createTestStore(): Promise<TestStore> {
  const { url, remove } = TEST_DB === 'postgres' ? await createSchema() : createSqliteFile();
  const store = openStore(url);
  await store.migrate();
  return {
    url,
    store,
    reopen: () => openStore(url),
    drop: async () => {
      await store.close();
      await remove();
    },
  };
}

/** A schema of its own on the PostgreSQL server, and the URL that makes it the search path. */
async function createSchema(): Promise<{ url: string; remove(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  return {
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    remove: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

/** A SQLite file in a temporary directory of its own. */
function createSqliteFile(): { url: string; remove(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  return {
    url: `sqlite:${join(dir, 'gatehouse.db')}`,
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
