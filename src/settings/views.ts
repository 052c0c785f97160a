// settings/: the store's records as the settings API shows them (the wire.ts types): no user id,
// no organization id of a token, never a secret.
import type { AppView } from '../store/oauth-store.js';
import { describeRestrictions, type TokenRestrictions } from '../permissions/restrictions.js';
import { describeScope } from '../permissions/vocabulary.js';
import { expiresSoon } from '../policy/token-expiry.js';
import type { ApiTokenView } from '../store/index.js';
import type { OrgTokenView } from '../store/org-token-admin.js';
import { SCOPE_NAMES, type App, type OrgToken, type Restrictions, type Token } from './wire.js';

/** What the lifecycle tables add to a token: revocation and the last distinct addresses. */
export interface TokenLifecycleFacts {
  revokedAt: string | undefined;
  lastUsedIps: { ip: string; lastUsedAt: string }[];
}

const NO_FACTS: TokenLifecycleFacts = { revokedAt: undefined, lastUsedIps: [] };

export function tokenJson(t: ApiTokenView, facts: TokenLifecycleFacts = NO_FACTS, now = Date.now()): Token {
  return {
    id: t.id,
    name: t.name,
    hint: t.hint,
    origin: t.origin,
    enabled: t.enabled,
    expiresAt: t.expiresAt,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    lastUsedIp: t.lastUsedIp,
    lastUsedIps: facts.lastUsedIps,
    // The page marks these: expiring within 7 days (the gateway's warning header window), revoked.
    expiresSoon: expiresSoon(t.expiresAt, now),
    revoked: facts.revokedAt !== undefined,
    restrictions: restrictionsJson(t.restrictions),
    restrictionsText: describeRestrictions(t.restrictions),
  };
}

/** Only the parts a token is restricted by: an absent part is not restricted. */
function restrictionsJson(r: TokenRestrictions | null): Restrictions | null {
  if (!r) return null;
  const out: Restrictions = {};
  if (r.permissions) out.permissions = [...r.permissions];
  if (r.networks) out.networks = [...r.networks];
  if (r.maxVersion !== undefined) out.maxVersion = r.maxVersion;
  return out;
}

export function orgTokenJson(t: OrgTokenView): OrgToken {
  return { id: t.id, name: t.name, hint: t.hint, origin: t.origin, enabled: t.enabled, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, lastUsedIp: t.lastUsedIp };
}

type Scope = (typeof SCOPE_NAMES)[number];
const isScope = (s: string): s is Scope => (SCOPE_NAMES as readonly string[]).includes(s);

export function appJson(a: AppView): App {
  return { id: a.grantId, clientId: a.clientId, name: a.name, description: a.description, logoUrl: a.logoUrl, scopes: a.scopes.filter(isScope), scopeText: describeScope(a.scopes.join(' ')), firstAuthorizedAt: a.firstAuthorizedAt, lastUsedAt: a.lastUsedAt };
}
