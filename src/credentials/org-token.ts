// credentials/: the organization API token (deprecated) — extract, verify, describe the principal.
// Sent as `organizationKey` + `userLoginName`, or as a `gto_` token in `apiToken` / Bearer together
// with `userLoginName` (header names in any case: node:http lower-cases them). The rules live in
// policy/org-token.ts; this unit only finds the records they judge. An organizationKey may also be
// one of the platform's own keys, imported (a GUID, or 64–66 lower-case alphanumerics): same
// records, same rules; see checkOrgKeyShape for when such a key is worth a look-up.
// /!\ Hot path.
import type { IncomingHttpHeaders } from 'node:http';
import type { RecordReader } from '../cache/record-reader.js';
import { deepest } from '../cache/tier.js';
import {
  CredentialConflict,
  CredentialMalformed,
  CredentialUnknown,
  GatehouseError,
  OrgTokenLoginMissing,
} from '../outcomes/errors.js';
import { judgeActingUser, judgeOrgTokenCall } from '../policy/org-token.js';
import type { PresentedCredential } from './extract-rest.js';
import { ALL_GRANTS } from '../permissions/vocabulary.js';
import type { Authenticated } from './principal.js';
import { checkOrgKeyShape, hashToken, TOKEN_PREFIXES } from '../tokens/token-format.js';

export const ORGANIZATION_KEY_HEADER = 'organizationkey';
export const USER_LOGIN_NAME_HEADER = 'userloginname';
/** The id an unknown login's stand-in user is read under: never a user's (theirs are UUIDs). */
const ABSENT_USER_PREFIX = 'absent:';

export interface PresentedOrgToken {
  carrier: 'organizationKey' | 'apiToken' | 'bearer';
  secret: string;
  /** The login name of the user the call acts for, as sent (compared case-insensitively). */
  loginName: string;
}

/** One header's distinct values; node joins repeats of unknown headers with ", ". */
function distinctValues(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return [...new Set((Array.isArray(raw) ? raw : raw.split(',')).map((v) => v.trim()))];
}

/**
 * Is this an organization-token call? `undefined` = no (the user-token path takes it); otherwise
 * the presented token, or the refusal (400) of a malformed org-token call. `rest` is what
 * extractRestCredential found in `apiToken` / Bearer, so those headers are parsed only once.
 */
export function extractOrgToken(
  headers: IncomingHttpHeaders,
  rest: PresentedCredential | GatehouseError,
): PresentedOrgToken | GatehouseError | undefined {
  const keys = distinctValues(headers[ORGANIZATION_KEY_HEADER]);
  let carrier: PresentedOrgToken['carrier'];
  let secret: string;
  if (keys === undefined) {
    // No organizationKey: an org-token call only if apiToken/Bearer carries a gto_ token
    if (rest instanceof GatehouseError || !rest.secret.startsWith(TOKEN_PREFIXES.organization)) return undefined;
    ({ carrier, secret } = rest);
  } else {
    // organizationKey, and any other credential header must carry the same token
    if (keys.length > 1) return new CredentialConflict();
    if (rest instanceof CredentialConflict) return rest;
    if (!(rest instanceof GatehouseError) && rest.secret !== keys[0]) return new CredentialConflict();
    carrier = 'organizationKey';
    secret = keys[0] ?? '';
  }
  // The user acted for: required
  const logins = distinctValues(headers[USER_LOGIN_NAME_HEADER])?.filter((v) => v !== '');
  if (!logins || logins.length === 0) return new OrgTokenLoginMissing();
  if (logins.length > 1) return new CredentialConflict();
  return { carrier, secret, loginName: logins[0]! };
}

export interface OrgTokenOutcome {
  /** The verified principal, or the refusal. */
  result: Authenticated | GatehouseError;
  /** The token's organization once known: for the metric and the access log, even on refusal. */
  organizationId?: string;
}

/** Shape check → token → organization → version and flag → acting user → roles, each judged as soon as it is known. */
export async function authenticateOrgToken(presented: PresentedOrgToken, version: number | 'soap', records: RecordReader): Promise<OrgTokenOutcome> {
  // Shape: prefix, alphabet, checksum, or a legacy form of which keys are imported — no I/O for garbage
  const shape = checkOrgKeyShape(presented.secret, records.legacyOrgKeys);
  if (!shape.ok) return { result: shape.reason === 'kind' ? new CredentialUnknown() : new CredentialMalformed() };

  // The token and its organization, each under its own key (a GUID hashed in its lower-case spelling)
  const token = await records.orgToken(hashToken(shape.canonical));
  if (!token.value) return { result: new CredentialUnknown() };
  const organizationId = token.value.organizationId;
  const organization = await records.organization(organizationId);
  const refused = judgeOrgTokenCall({ token: token.value, organization: organization.value, version });
  if (refused) return { result: refused, organizationId };

  // The user acted for, by login name, then their roles. An unknown login reads a user all the same
  // (a stand-in no login names, cached as long as a user): it costs the look-ups and store reads a
  // login of another organization costs, so no timing tells which logins exist (issue 19 item 11).
  const login = await records.userIdByLogin(presented.loginName);
  const user = login.value ? await records.user(login.value.userId) : await records.absentUser(ABSENT_USER_PREFIX + presented.loginName.toLowerCase());
  const inOrg = user.value?.organizationId === organizationId;
  // A foreign user's roles are never read: the answer must not depend on them.
  const roles = inOrg ? await records.roles(user.value!.roleIds) : { roles: [], tier: user.tier };
  const denied = judgeActingUser({ organizationId, user: user.value, roles: roles.roles });
  if (denied) return { result: denied, organizationId };

  const u = user.value!;
  const tier = [organization.tier, login.tier, user.tier, roles.tier].reduce(deepest, token.tier);
  return {
    result: { principal: { authKind: 'org-token', grants: ALL_GRANTS, tokenId: token.value.id, userId: u.id, organizationId, loginName: u.loginName }, tier },
    organizationId,
  };
}
