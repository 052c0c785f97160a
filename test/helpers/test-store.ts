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
  if (TEST_DB === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const store = openStore(url);
    await store.migrate();
    return {
      url,
      store,
      reopen: () => openStore(url),
      drop: async () => {
        await store.close();
        const c = new pg.Client({ connectionString: POSTGRES_URL });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const url = `sqlite:${join(dir, 'gatehouse.db')}`;
  const store = openStore(url);
  await store.migrate();
  return {
    url,
    store,
    reopen: () => openStore(url),
    drop: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
