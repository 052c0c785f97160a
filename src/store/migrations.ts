// Migrations in code, applied at start and by `gatehouse migrate`. The only dialect difference
// (auto-increment keys) is confined to `serialId` below.
//
// Several instances may start at once on one empty store, and each migrates: whoever comes second
// waits for the first and then finds nothing pending, on both dialects. PostgreSQL: Kysely's
// Migrator holds a session advisory lock (pg_advisory_lock) on one connection for the whole run and
// applies the migrations in one transaction under it; its own tables are created before the lock,
// tolerating a concurrent creation. SQLite: the Migrator takes no lock (it assumes one process), so
// the whole run — its tables included — is one BEGIN IMMEDIATE transaction: a second process waits
// for the write lock (busy_timeout, then retried), and a failed migration leaves nothing behind.
import { Kysely, Migrator, sql, type CreateTableBuilder, type Migration, type MigrationProvider } from 'kysely';
import { retryWhileBusy, type Dialect } from './database.js';

function serialId<T extends string>(dialect: Dialect, table: CreateTableBuilder<T, never>) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('organizations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('feature_flags', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
          .addColumn('login_name', 'text', (c) => c.notNull())
          .addColumn('login_key', 'text', (c) => c.notNull().unique())
          .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('password_hash', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('roles')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('roles_org_name', ['organization_id', 'name'])
          .execute();
        await db.schema
          .createTable('role_permissions')
          .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
          .addColumn('permission', 'text', (c) => c.notNull())
          .addColumn('effect', 'text', (c) => c.notNull().check(sql`effect in ('allow', 'deny')`))
          .addPrimaryKeyConstraint('role_permissions_pk', ['role_id', 'permission'])
          .execute();
        await db.schema
          .createTable('user_roles')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
          .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
          .execute();
        await db.schema
          .createTable('api_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('hint', 'text', (c) => c.notNull())
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('expires_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('last_used_ip', 'text')
          .addUniqueConstraint('api_tokens_user_name', ['user_id', 'name'])
          .execute();
        await db.schema
          .createTable('org_api_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('hint', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('last_used_ip', 'text')
          .execute();
        await serialId(dialect, db.schema.createTable('audit_events'))
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_kind', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('organization_id', 'text')
          .addColumn('source', 'text')
          .addColumn('detail', 'text')
          .execute();
        await serialId(dialect, db.schema.createTable('changes'))
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('cache_key', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('users_org').on('users').column('organization_id').execute();
        await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();
        await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_kind', 'target_id']).execute();
      },
    },
    // The settings page's sign-in sessions and one-time set-password links (see src/settings/).
    // Only hashes of the cookie value and of the link token are stored.
    '0002_settings_sessions': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('settings_sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('csrf_token', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('settings_sessions_user').on('settings_sessions').column('user_id').execute();
        await db.schema
          .createTable('settings_password_links')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    // The OAuth2 authorization server (src/oauth/): clients, the grants users gave them, one-time
    // codes and rotated refresh tokens. Only hashes of codes, refresh tokens and client secrets.
    '0003_oauth': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('oauth_clients')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('logo_url', 'text')
          .addColumn('redirect_uris', 'text', (c) => c.notNull())
          .addColumn('public', 'integer', (c) => c.notNull())
          .addColumn('secret_hash', 'text')
          .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('oauth_grants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.id').onDelete('cascade'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('oauth_grants_user').on('oauth_grants').column('user_id').execute();
        await db.schema.createIndex('oauth_grants_client').on('oauth_grants').column('client_id').execute();
        await db.schema
          .createTable('oauth_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('grant_id', 'text', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('redirect_uri', 'text', (c) => c.notNull())
          .addColumn('code_challenge', 'text')
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .execute();
        await db.schema
          .createTable('refresh_tokens')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('grant_id', 'text', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('spent_at', 'text')
          .execute();
        await db.schema.createIndex('refresh_tokens_grant').on('refresh_tokens').column('grant_id').execute();
      },
    },
    // Token lifecycle (issue 10): rolled secrets with their own expiry, a revoked marker that keeps
    // the record (so the refusal can say why), the organization's maximum token lifetime, and the
    // last few distinct client addresses per token.
    '0004_token_lifecycle': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('api_token_secrets')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('token_id', 'text', (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('api_token_secrets_token').on('api_token_secrets').column('token_id').execute();
        for (const table of ['api_tokens', 'org_api_tokens']) {
          await db.schema.alterTable(table).addColumn('revoked_at', 'text').execute();
          await db.schema.alterTable(table).addColumn('revoked_reason', 'text').execute();
        }
        await db.schema.alterTable('organizations').addColumn('max_token_lifetime_days', 'integer').execute();
        await db.schema
          .createTable('token_usage_ips')
          .addColumn('token_id', 'text', (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
          .addColumn('ip', 'text', (c) => c.notNull())
          .addColumn('last_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('token_usage_ips_pk', ['token_id', 'ip'])
          .execute();
        await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
      },
    },
    // The platform's own organization keys, imported (issue 17): which form each key has, so the
    // gateway knows whether any key of a legacy form exists (its shape check refuses the form
    // without a look-up otherwise). Indexed: that question is asked at start and after each import.
    '0005_legacy_org_keys': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('org_api_tokens').addColumn('origin', 'text', (c) => c.notNull().defaultTo('minted')).execute();
        await db.schema.createIndex('org_api_tokens_origin').on('org_api_tokens').column('origin').execute();
      },
    },
    // Restricted tokens (issue 20): permissions, client networks and the highest API version, as one
    // JSON document read with the token (the edge judges them from the cached record, no extra read).
    '0006_token_restrictions': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('api_tokens').addColumn('restrictions', 'text').execute();
      },
    },
  };
}

async function migrator(db: Kysely<any>, dialect: Dialect): Promise<Migrator> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  if (dialect === 'sqlite') return new Migrator({ db, provider });
  // Kysely looks for its migration tables in every schema it can see; pin them to the schema this
  // connection writes to (search_path), or a second Gatehouse schema in the same database would
  // make it skip creating its own.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return new Migrator({ db, provider, migrationTableSchema: rows[0]!.schema });
}

export async function pendingMigrations(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const all = await (await migrator(db, dialect)).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

async function migrateWith(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const { error, results } = await (await migrator(db, dialect)).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies the pending migrations; returns their names (none when another process applied them first). */
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  if (dialect === 'postgres') return migrateWith(db, dialect);
  // SQLite: one connection, held for the transaction; the Migrator runs on it, inside BEGIN IMMEDIATE.
  return retryWhileBusy(() =>
    db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const applied = await migrateWith(conn, dialect);
        await sql`commit`.execute(conn);
        return applied;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    }),
  );
}
