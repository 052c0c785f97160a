// The organization-token rule as the REST suites state it, and the organization it is tried on:
// one user per state the rule distinguishes, and an enabled gto_ token created while the flag was on.
// Shared by org-token.test.ts (gto_ tokens) and org-token-legacy.test.ts (imported platform keys).
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/store/index.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { seedOrganization, TEST_ACTOR } from './fixtures.js';

export const FLAG = 'OrganizationApiToken';

export type UserState = 'enabled' | 'disabled' | 'noPermission' | 'allowedAndDenied' | 'otherOrg' | 'unknown';

/** The expected answer per user state once version and flag allow the call. */
export const BY_USER: Record<UserState, [status: number, errorId: string | null]> = {
  enabled: [200, null],
  disabled: [403, 'ActingUserDisabled'],
  noPermission: [403, 'PermissionDenied'],
  allowedAndDenied: [403, 'PermissionDenied'],
  otherOrg: [403, 'ActingUserNotAllowed'],
  unknown: [403, 'ActingUserNotAllowed'],
};

/** The stated rule: the version fence first (v6+ → 403), then the flag (off → 403), then the user. */
export function expected(version: number, flag: boolean, state: UserState): [number, string | null] {
  if (version > 5) return [403, 'VersionNotAllowed'];
  if (!flag) return [403, 'FeatureFlagMissing'];
  return BY_USER[state];
}

export interface OrgTokenOrg {
  name: string;
  id: string;
  /** The enabled gto_ token of the `enabled` user. */
  token: string;
  tokenId: string;
  logins: Record<UserState, string>;
  userIds: Partial<Record<UserState, string>>;
}

/** The `otherOrg` state's user: a member (Integrators) of another organization, one with the flag on. */
export async function seedOtherOrgUser(store: Store, login: string): Promise<{ login: string; id: string }> {
  const elsewhere = await seedOrganization(store);
  await store.admin.setOrganizationFeature(TEST_ACTOR, elsewhere.name, FLAG, true);
  const other = await store.admin.createUser(TEST_ACTOR, elsewhere.name, login, ['Integrators']);
  return { login, id: other.id };
}

/** An organization with one user per state (`other` is a user of another organization), its flag as given. */
export async function seedOrgTokenOrg(store: Store, flag: boolean, other: { login: string; id: string }, loginPrefix = 'ot'): Promise<OrgTokenOrg> {
  const login = () => `${loginPrefix}-${randomBytes(4).toString('hex')}@example.test`;
  const org = await seedOrganization(store);
  await store.admin.setOrganizationFeature(TEST_ACTOR, org.name, FLAG, true);
  const logins = { enabled: login(), disabled: login(), noPermission: login(), allowedAndDenied: login(), otherOrg: other.login, unknown: login() };
  const userIds: OrgTokenOrg['userIds'] = { otherOrg: other.id };
  const roles: Partial<Record<UserState, string[]>> = { enabled: ['Integrators'], disabled: ['Integrators'], noPermission: ['Plain'], allowedAndDenied: ['Integrators', 'Blocked'] };
  for (const [state, r] of Object.entries(roles) as [UserState, string[]][]) {
    userIds[state] = (await store.admin.createUser(TEST_ACTOR, org.name, logins[state], r)).id;
  }
  await store.admin.setUserEnabled(TEST_ACTOR, logins.disabled, false);
  const { token, secret } = await new OrgTokenAdmin(store.db, judgeOrgTokenManagement).create(TEST_ACTOR, logins.enabled, 'Legacy integration', { enabled: true });
  // Without the flag the token stays; it was created while the flag was on.
  if (!flag) await store.admin.setOrganizationFeature(TEST_ACTOR, org.name, FLAG, false);
  return { name: org.name, id: org.id, token: secret, tokenId: token.id, logins, userIds };
}
