// store/: owns persistence — the Kysely database, its migrations, the gateway's read model and the
// audited, change-feeding write side. `openStore` is the one way in.
import { sql } from 'kysely';
import { AdminStore } from './admin-store.js';
import { openDatabase, type Dialect } from './database.js';
import { GatewayStoreKysely, type GatewayStore } from './gateway-store.js';
import { migrateToLatest, pendingMigrations } from './migrations.js';
import { TokenLifecycle } from './token-lifecycle.js';
import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  gateway: GatewayStore;
  admin: AdminStore;
  /** Rolling, lifetime policy, leaked-token revocation, usage addresses, audit reads (issue 10). */
  lifecycle: TokenLifecycle;
  migrate(): Promise<string[]>;
  /** Names of migrations not yet applied. */
  pendingMigrations(): Promise<string[]>;
  /**
   * Hears the cache keys of every write committed through this store handle, right after COMMIT
   * (the Redis eviction publisher subscribes here). Returns an unsubscribe function.
   */
  onCommittedChanges(listener: (keys: string[]) => void): () => void;
  /** Cheap reachability probe for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openStore(url: string): Store {
  const listeners = new Set<(keys: string[]) => void>();
  const { db, dialect } = openDatabase(url, (keys) => {
    // A listener's failure (Redis down) must never fail the write that has already committed.
    for (const l of listeners) {
      try {
        l(keys);
      } catch {
        /* the listener reports its own errors */
      }
    }
  });
  return {
    db,
    dialect,
    gateway: new GatewayStoreKysely(db),
    admin: new AdminStore(db),
    lifecycle: new TokenLifecycle(db),
    migrate: () => migrateToLatest(db, dialect),
    pendingMigrations: () => pendingMigrations(db, dialect),
    onCommittedChanges(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

export type { GatewayStore } from './gateway-store.js';
export type { Actor } from './write-context.js';
export type { ApiTokenView, LegacyTokenRow } from './admin-store.js';
export { StoreError } from './errors.js';
