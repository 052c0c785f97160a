// Migrations in code, applied at start and by `gatehouse migrate`. The only dialect difference
// (auto-increment keys) is confined to `serialId` below.
import { Kysely, Migrator, sql, type CreateTableBuilder, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './database.js';

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
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // PostgreSQL: pin Kysely's own tables to the connection's schema. Without it the migrator sees a
  // kysely_migration table in ANY schema of the database and skips creating its own (a race
  // between stores sharing one database, e.g. parallel test runs on their own schemas).
  const migrationTableSchema =
    dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
