// Seeds an organization, roles, a user and tokens through the real write path (AdminStore).
import { randomBytes } from 'node:crypto';
import type { Actor, Store } from '../../src/store/index.js';

export const TEST_ACTOR: Actor = { actor: 'test', source: 'test' };

export interface SeededUser {
  org: string;
  login: string;
  userId: string;
  organizationId: string;
  /** Enabled token with the API permission. */
  token: string;
  tokenId: string;
}

/** An organization with roles `Integrators` (allow API), `Blocked` (deny API), `Plain` (nothing). */
export async function seedOrganization(store: Store, name = `Org ${randomBytes(4).toString('hex')}`) {
  const org = await store.admin.createOrganization(TEST_ACTOR, name);
  await store.admin.createRole(TEST_ACTOR, name, 'Integrators', ['API'], []);
  await store.admin.createRole(TEST_ACTOR, name, 'Blocked', [], ['API']);
  await store.admin.createRole(TEST_ACTOR, name, 'Plain', [], []);
  return org;
}

export async function seedUser(
  store: Store,
  opts: { org?: string; roles?: string[]; enabled?: boolean; tokenEnabled?: boolean; expiresAt?: string | null } = {},
): Promise<SeededUser> {
  const org = opts.org ?? (await seedOrganization(store)).name;
  const login = `user-${randomBytes(4).toString('hex')}@example.test`;
  const user = await store.admin.createUser(TEST_ACTOR, org, login, opts.roles ?? ['Integrators']);
  const { token, secret } = await store.admin.createApiToken(TEST_ACTOR, login, 'Integration A', {
    enabled: opts.tokenEnabled ?? true,
    expiresAt: opts.expiresAt ?? null,
  });
  if (opts.enabled === false) await store.admin.setUserEnabled(TEST_ACTOR, login, false);
  return { org, login, userId: user.id, organizationId: user.organizationId, token: secret, tokenId: token.id };
}
