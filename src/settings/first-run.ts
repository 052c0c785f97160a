// settings/: the first start on an empty store (development only): a demo organization and user,
// and a one-time set-password link printed to the console, so `npm start` leads to a working page.
// The link token travels in the URL fragment, which browsers never send: it cannot reach access logs.
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/index.js';
import type { SessionStore } from './session-store.js';

export const DEMO = { org: 'Demo', role: 'Integrators', login: 'demo@example.test' } as const;
const ACTOR = { actor: 'system', source: 'first-run' };

export function setPasswordLink(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/settings#set-password=${token}`;
}

/** Creates the demo user when the store has no users; returns the link it printed, if any. */
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
  const anyUser = await store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return undefined;
  await store.admin.createOrganization(ACTOR, DEMO.org);
  await store.admin.createRole(ACTOR, DEMO.org, DEMO.role, ['API'], []);
  const user = await store.admin.createUser(ACTOR, DEMO.org, DEMO.login, [DEMO.role]);
  const { token } = await deps.sessions.createPasswordLink(user.id);
  const link = setPasswordLink(config.server.publicUrl || deps.baseUrl, token);
  // Printed, not logged: the one-time token belongs on the operator's console, not in log storage.
  (deps.print ?? ((t) => process.stdout.write(t)))(
    `\nGatehouse: empty store, so a demo user ${DEMO.login} was created.\n` +
      `Open this one-time link to set its password and manage its API tokens:\n\n  ${link}\n\n`,
  );
  logger.info('demo user created; one-time set-password link printed to the console', { login: DEMO.login });
  return link;
}
