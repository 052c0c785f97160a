// settings/: the first start on an empty store (development only): a demo organization and user,
// and a one-time set-password link printed to the console, so `npm start` leads to a working page.
// The link token travels in the URL fragment, which browsers never send: it cannot reach access logs.
//
// Several instances may start at once on one empty store (a fleet on one PostgreSQL, workers,
// `npm start` twice): exactly one makes the demo user and prints its link, and none fails because
// another was first. The check and every write are one transaction that first takes a lock a second
// instance waits for — PostgreSQL: an advisory transaction lock for this schema; SQLite: the
// database's write lock, taken by the transaction's first statement (a write that changes nothing)
// and waited for (busy_timeout, then retried) — so whoever comes second finds a user and does
// nothing. An organization or role of the demo's names that exists without users is used as it is.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { AdminStore } from '../store/admin-store.js';
import { retryWhileBusy, type Dialect } from '../store/database.js';
import type { Store } from '../store/index.js';
import type { Database } from '../store/tables.js';
import type { SessionStore } from './session-store.js';

export const DEMO = { org: 'Demo', role: 'Integrators', login: 'demo@example.test' } as const;
const ACTOR = { actor: 'system', source: 'first-run' };
/** The first key of the PostgreSQL advisory lock ("ghfr"); the second is the schema's hash. */
const FIRST_RUN_LOCK = 0x67686672;

export function setPasswordLink(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/settings#set-password=${token}`;
}

const anyUser = async (db: Kysely<Database>) => (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;

/** Held until the transaction ends; another instance's first run waits here. */
async function lockFirstRun(trx: Transaction<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(FIRST_RUN_LOCK)}, hashtext(coalesce(current_schema(), '')))`.execute(trx);
  else await sql`update users set enabled = enabled where 0`.execute(trx);
}

/** The demo organization, role and user, and a link for the user — all in `trx`; the link's token. */
async function createDemo(trx: Transaction<Database>, sessions: SessionStore): Promise<string> {
  const admin = new AdminStore(trx);
  const org = await trx.selectFrom('organizations').select('id').where('name', '=', DEMO.org).executeTakeFirst();
  if (!org) await admin.createOrganization(ACTOR, DEMO.org);
  const role = org && (await trx.selectFrom('roles').select('id').where('organization_id', '=', org.id).where('name', '=', DEMO.role).executeTakeFirst());
  if (!role) await admin.createRole(ACTOR, DEMO.org, DEMO.role, ['API'], []);
  const user = await admin.createUser(ACTOR, DEMO.org, DEMO.login, [DEMO.role]);
  return (await sessions.within(trx).createPasswordLink(user.id)).token;
}

/** Creates the demo user when the store has no users; returns the link it printed, if any (undefined when another instance was first). */
export async function welcomeOnEmptyStore(deps: {
  config: Config;
  store: Store;
  sessions: SessionStore;
  logger: Logger;
  baseUrl: string;
  print?: (text: string) => void;
}): Promise<string | undefined> {
  const { config, store, logger } = deps;
  if (config.env !== 'development' || !config.settings.demoUser) return undefined;
  if (await anyUser(store.db)) return undefined;
  const token = await retryWhileBusy(() =>
    store.db.transaction().execute(async (trx) => {
      await lockFirstRun(trx, store.dialect);
      // Looked at again under the lock: another instance may have been first
      if (await anyUser(trx)) return undefined;
      return createDemo(trx, deps.sessions);
    }),
  );
  if (!token) return undefined;
  const link = setPasswordLink(config.server.publicUrl || deps.baseUrl, token);
  // Printed, not logged: the one-time token belongs on the operator's console, not in log storage.
  (deps.print ?? ((t) => process.stdout.write(t)))(
    `\nGatehouse: empty store, so a demo user ${DEMO.login} was created.\n` +
      `Open this one-time link to set its password and manage its API tokens:\n\n  ${link}\n\n`,
  );
  logger.info('demo user created; one-time set-password link printed to the console', { login: DEMO.login });
  return link;
}
