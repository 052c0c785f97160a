// settings/: the JSON bodies of the settings API, in one place for both ends — settings/api.ts
// builds them and web/page/api.ts reads them (a type-only import: nothing of the server reaches the
// page's bundle). A field renamed on one side no longer compiles on the other.

export interface Me {
  user: { id: string; loginName: string; organization: { id: string; name: string } };
  apiPermission: 'allowed' | 'denied' | 'not-granted';
  csrfToken: string;
  sessionExpiresAt: string;
}

export interface Token {
  id: string;
  name: string;
  hint: string;
  origin: 'minted' | 'legacy';
  enabled: boolean;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  lastUsedIps: { ip: string; lastUsedAt: string }[];
  expiresSoon: boolean;
  revoked: boolean;
}

export interface OrgToken {
  id: string;
  name: string;
  /** `gto_…abcd`; an imported key's has no prefix (`…abcd`). */
  hint: string;
  /** `legacy`: one of the platform's own organization keys, imported by the operator. */
  origin: 'minted' | 'legacy';
  enabled: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}

export interface OrgTokens {
  section: { visible: boolean; enabled: boolean; reason: string | null; warning: string };
  tokens: OrgToken[];
}

/** An OAuth application the user authorized (one grant). */
export interface App {
  id: string;
  clientId: string;
  name: string;
  description: string;
  logoUrl: string | null;
  scopes: string[];
  firstAuthorizedAt: string;
  lastUsedAt: string | null;
}
