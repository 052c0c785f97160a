// store/: owns persistence — the Kysely database, its migrations, the gateway's read model and the
// audited, change-feeding write side. `openStore` is the one way in.
import { sql } from 'kysely';
import { AdminStore } from './admin-store.js';
import { openDatabase, type Dialect } from './database.js';
import { GatewayStoreKysely, type GatewayStore } from './gateway-store.js';
import { migrateToLatest, pendingMigrations } from './migrations.js';
import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  gateway: GatewayStore;
  admin: AdminStore;
  migrate(): Promise<string[]>;
  /** Names of migrations not yet applied. */
  pendingMigrations(): Promise<string[]>;
  /** Cheap reachability probe for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openStore(url: string): Store {
  const { db, dialect } = openDatabase(url);
  return {
    db,
    dialect,
    gateway: new GatewayStoreKysely(db),
    admin: new AdminStore(db),
    migrate: () => migrateToLatest(db, dialect),
    pendingMigrations: () => pendingMigrations(db, dialect),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

export type { GatewayStore } from './gateway-store.js';
export type { Actor, ApiTokenView, LegacyTokenRow } from './admin-store.js';
export { StoreError } from './errors.js';
