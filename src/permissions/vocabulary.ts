// permissions/: one vocabulary for what a call of the platform's API does, on REST and on SOAP
// alike — a resource family (envelope, template, ...) and an access (read, write). Restricted API
// tokens (issue 20), OAuth scopes and the identity told to the upstream all speak it. Write implies
// read, as in Stripe's restricted keys: a token that may write envelopes may also read them.
// Ground floor: imports nothing of ours. The mapping of each REST route and SOAP operation to what
// it needs lives beside this file (rest-map.ts, soap-map.ts).

/** The platform's REST API versions (`/Api/v1` … `/Api/v6`): the route table's range and a token's possible ceilings. */
export const API_VERSIONS = { min: 1, max: 6 } as const;
/** The most client networks a token may be restricted to: enough for any real allow-list, a bound so a record stays small. */
export const MAX_NETWORKS = 50;

/** The platform's resource families, in the order the settings page lists them. */
export const FAMILIES = ['envelope', 'template', 'draft', 'file', 'organization', 'user'] as const;
export type Family = (typeof FAMILIES)[number];

export const ACCESSES = ['read', 'write'] as const;
export type Access = (typeof ACCESSES)[number];

/** `envelope:read`, `template:write`, ...: the names tokens, roles and OAuth scopes use. */
export type Permission = `${Family}:${Access}`;

/** What one call needs: a family and an access, or only a valid token (the credential check itself). */
export type Need = { readonly family: Family; readonly access: Access } | typeof ANY_TOKEN;
/** The credential check (`GET /Api/v4/authorization`, `ValidateAuthorization_v1`): any valid token may ask it. */
export const ANY_TOKEN = 'any-token';

/** Family → the highest access granted. A family absent from it is not granted at all. */
export type Grants = Readonly<Partial<Record<Family, Access>>>;

/** How a family is named in words: on the settings page, the consent page and in refusals. */
export const FAMILY_WORDS: Readonly<Record<Family, { label: string; plural: string; covers: string }>> = {
  envelope: { label: 'Envelopes', plural: 'envelopes', covers: 'envelopes and bulk envelopes: send, find, read, cancel, remind, restart, delete' },
  template: { label: 'Templates', plural: 'templates', covers: 'templates: find, read, create and change' },
  draft: { label: 'Drafts', plural: 'drafts', covers: 'drafts: create, read, change, send' },
  file: { label: 'Files', plural: 'files', covers: 'files and temporary (SSP) files: upload, read, dispose' },
  organization: { label: 'Organization', plural: 'the organization', covers: 'the organization and its license' },
  user: { label: 'Users and teams', plural: 'users and teams', covers: 'users and teams of the organization' },
};

const FAMILY_SET: ReadonlySet<string> = new Set(FAMILIES);
export const isFamily = (s: string): s is Family => FAMILY_SET.has(s);

/** Every permission name, `envelope:read` first. */
export const PERMISSIONS: readonly Permission[] = FAMILIES.flatMap((f) => ACCESSES.map((a) => `${f}:${a}` as Permission));

/** `envelope:read` → its parts; undefined for anything else (case matters: names are lower-case). */
export function parsePermission(s: string): { family: Family; access: Access } | undefined {
  const i = s.indexOf(':');
  if (i < 0) return undefined;
  const family = s.slice(0, i);
  const access = s.slice(i + 1);
  if (!isFamily(family) || (access !== 'read' && access !== 'write')) return undefined;
  return { family, access };
}

/** Permission names → grants; write wins over read for one family. Unknown names are ignored (validate first). */
export function grantsOf(permissions: Iterable<string>): Grants {
  const g: Partial<Record<Family, Access>> = {};
  for (const p of permissions) {
    const parsed = parsePermission(p);
    if (parsed && g[parsed.family] !== 'write') g[parsed.family] = parsed.access;
  }
  return g;
}

/** Everything: each family with write. */
export const ALL_GRANTS: Grants = Object.fromEntries(FAMILIES.map((f) => [f, 'write']));

/** May grants `g` make a call that needs `need`? Write implies read. */
export function grantsAllow(g: Grants, need: Need): boolean {
  if (need === ANY_TOKEN) return true;
  const has = g[need.family];
  return has === 'write' || (has === 'read' && need.access === 'read');
}

/** Grants as sorted permission names (`envelope:write template:read`): the form the upstream is told. */
export function permissionNames(g: Grants): Permission[] {
  return FAMILIES.filter((f) => g[f]).map((f) => `${f}:${g[f]}` as Permission);
}

/** The permission a need is named by, for a refusal: `envelope:write`. */
export const needName = (need: Exclude<Need, typeof ANY_TOKEN>): Permission => `${need.family}:${need.access}`;

const listInWords = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/** Grants in words: "Read envelopes and templates · Write drafts"; "Everything" for all of it, "Nothing" for none. */
export function describeGrants(g: Grants): string {
  const write = FAMILIES.filter((f) => g[f] === 'write');
  const read = FAMILIES.filter((f) => g[f] === 'read');
  if (write.length === FAMILIES.length) return 'Everything';
  if (write.length === 0 && read.length === 0) return 'Nothing';
  const parts: string[] = [];
  if (read.length) parts.push(`Read ${listInWords(read.map((f) => FAMILY_WORDS[f].plural))}`);
  if (write.length) parts.push(`Read and write ${listInWords(write.map((f) => FAMILY_WORDS[f].plural))}`);
  return parts.join(' · ');
}

// --- OAuth scopes in the same vocabulary ----------------------------------------------------------

/** `api`: everything the user may do; `api:read`: every family, read only; and each permission by name. */
export const OAUTH_SCOPES: readonly string[] = ['api', 'api:read', ...PERMISSIONS];
const OAUTH_SCOPE_SET: ReadonlySet<string> = new Set(OAUTH_SCOPES);
export const isOAuthScope = (s: string): boolean => OAUTH_SCOPE_SET.has(s);

const scopeGrants = new Map<string, Grants>();

/** The grants of an OAuth scope string (space-separated; unknown scopes grant nothing). Kept per string: a few per client. */
export function grantsOfScope(scope: string): Grants {
  let g = scopeGrants.get(scope);
  if (g) return g;
  const scopes = scope.split(' ');
  if (scopes.includes('api')) g = ALL_GRANTS;
  else {
    const named = grantsOf(scopes);
    g = scopes.includes('api:read') ? Object.fromEntries(FAMILIES.map((f) => [f, named[f] ?? 'read'])) : named;
  }
  if (scopeGrants.size >= 1_000) scopeGrants.clear(); // a bound, not a policy: scopes come from tokens this gateway signed
  scopeGrants.set(scope, g);
  return g;
}

/** A scope in words, for the consent page and Apps and Connections. */
export function describeScope(scope: string): string {
  return describeGrants(grantsOfScope(scope));
}
