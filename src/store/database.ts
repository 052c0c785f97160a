// Opens the store's database: SQLite (better-sqlite3, the embedded default) or PostgreSQL (pg),
// chosen by the URL's scheme. Everything above this file is dialect-free Kysely.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { announcingDialect, type ChangeListener } from './commit-announcer.js';
import type { Database } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
}

export function dialectOf(url: string): Dialect {
  return url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}

/** `onCommitted` hears the change-feed keys of every committed write (see commit-announcer.ts). */
export function openDatabase(url: string, onCommitted: ChangeListener = () => {}): OpenedDatabase {
  const dialect = dialectOf(url);
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets the CLI write while gateways read; busy_timeout makes concurrent writers wait instead of failing.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    return { db: new Kysely<Database>({ dialect: announcingDialect(new SqliteDialect({ database: sqlite }), onCommitted) }), dialect };
  }
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client's error (a server restart) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return { db: new Kysely<Database>({ dialect: announcingDialect(new PostgresDialect({ pool }), onCommitted) }), dialect };
}

/** Longest a start-up step waits for another process's write on SQLite (a migration, a first run) before it gives up. */
export const BUSY_WAIT_MS = 300_000;

/** SQLite's "another connection holds the write lock" (SQLITE_BUSY and its extended codes), once busy_timeout has passed. */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Runs `attempt` again while SQLite answers busy — each try has already waited busy_timeout — for
 * up to `maxMs`; anything else, or busy past that, is thrown. For whole transactions that take the
 * write lock first, so a retry starts from the beginning.
 */
export async function retryWhileBusy<T>(attempt: () => Promise<T>, maxMs = BUSY_WAIT_MS): Promise<T> {
  const giveUp = Date.now() + maxMs;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!isBusy(e) || Date.now() >= giveUp) throw e;
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 100));
    }
  }
}
