// settings/: the JSON bodies of the settings API, described once, as zod schemas: the request
// schemas validate what arrives (settings/routes/), every schema is a component of the OpenAPI
// document (settings/openapi.ts, through `z.toJSONSchema`), and the TypeScript types of both ends
// are inferred from them — settings/routes/ builds the responses, web/page/api.ts reads them (a
// type-only import: nothing of the server, zod included, reaches the page's bundle). A field renamed
// here is renamed in the validation, the document and both ends' types, or does not compile.
// Imports zod and the permission vocabulary only (ground floor, no Node types): the page's compiler
// (src/web/page/tsconfig.json) reads this file.
import { z } from 'zod';
import { API_VERSIONS, MAX_NETWORKS, OAUTH_SCOPES, PERMISSIONS } from '../permissions/vocabulary.js';

/** Every schema that is a component of the OpenAPI document, by its component name. */
export const components = z.registry<{ id: string }>();
const component = <T extends z.ZodType>(id: string, schema: T): T => {
  components.add(schema, { id });
  return schema;
};

// --- shared pieces ------------------------------------------------------------------------------

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const NAME_MAX = 100;
/** How long a rolled token's old secret keeps working (store/token-lifecycle.ts ROLL_OVERLAPS, checked where it is used). */
export const ROLL_OVERLAP_NAMES = ['now', '1h', '24h', '7d'] as const;
/** The OAuth scopes an app can hold: `api`, `api:read` and each permission (permissions/vocabulary.ts). */
export const SCOPE_NAMES = OAUTH_SCOPES;

const VERSION_RANGE = `must be a whole number from ${API_VERSIONS.min} to ${API_VERSIONS.max}`;

const dateTime = z.iso.datetime({ offset: true });
const tokenName = z
  .string()
  .trim()
  .min(1, `name must be 1 to ${NAME_MAX} characters`)
  .max(NAME_MAX, `name must be 1 to ${NAME_MAX} characters`);
const futureDate = z.iso
  .datetime({ offset: true, message: 'expiresAt must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z' })
  .refine((d) => Date.parse(d) > Date.now(), 'expiresAt must be in the future');
const secretOf = (prefix: 'gtu' | 'gto') => z.string().regex(new RegExp(`^${prefix}_[0-9A-Za-z]{36}$`));

// --- request bodies -----------------------------------------------------------------------------
// Strict objects: an unknown field is refused, so a typo ("enable") is not silently ignored.

export const SignIn = component('SignIn', z.strictObject({ login: z.string().min(1).max(254), password: z.string().min(1).max(PASSWORD_MAX).meta({ writeOnly: true }) }));

export const SetPassword = component(
  'SetPassword',
  z.strictObject({
    token: z.string().min(1).max(200).meta({ description: 'From the link fragment (#token=…).' }),
    // Its length rule is settings/password.ts passwordProblem (shared with the CLI, with its own message).
    password: z.string().meta({ writeOnly: true, minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX }),
  }),
);

/**
 * What a user API token is restricted to (issue 20); each part optional, absent = not restricted by
 * it. A request sends it, a token shows it normalized (write implies read, networks as canonical CIDR).
 */
export const Restrictions = component(
  'Restrictions',
  z
    .strictObject({
      permissions: z
        .array(z.enum(PERMISSIONS, { error: `unknown permission (known: ${PERMISSIONS.join(', ')})` }))
        .max(PERMISSIONS.length * 2)
        .optional()
        .meta({ description: 'What it may do: `envelope:read`, `template:write`, … (write implies read). Absent: everything its user may do; empty: nothing.' }),
      networks: z
        .array(z.string().min(1).max(100))
        .min(1, 'give at least one CIDR, or leave networks out to allow any address')
        .max(MAX_NETWORKS, `at most ${MAX_NETWORKS} networks`)
        .optional()
        .meta({ description: 'Client networks it may be used from, IPv4 or IPv6 CIDR (`203.0.113.0/24`, `2001:db8::/32`); a bare address is one host. Absent: anywhere.' }),
      maxVersion: z
        .int({ error: VERSION_RANGE })
        .min(API_VERSIONS.min, VERSION_RANGE)
        .max(API_VERSIONS.max, VERSION_RANGE)
        .optional()
        .meta({ description: 'The highest REST API version it may call (SOAP is not limited by it). Absent: any.' }),
    })
    .meta({ description: 'What a user API token is restricted to; {} is no restriction at all.' }),
);

export const CreateToken = component(
  'CreateToken',
  z.strictObject({ name: tokenName, expiresAt: futureDate.nullable().optional(), restrictions: Restrictions.nullable().optional() }),
);

export const UpdateToken = component(
  'UpdateToken',
  z
    .strictObject({ name: tokenName.optional(), enabled: z.boolean().optional(), expiresAt: futureDate.nullable().optional() })
    .refine((b) => Object.keys(b).length > 0, 'give at least one of name, enabled, expiresAt')
    .meta({ minProperties: 1 }),
);

export const RollToken = component(
  'RollToken',
  z.strictObject({
    oldExpires: z.enum(ROLL_OVERLAP_NAMES, { error: `oldExpires must be one of ${ROLL_OVERLAP_NAMES.join(', ')}` }).meta({ description: 'How long the old secret keeps working.' }),
  }),
);

export const CreateOrgToken = component('CreateOrgToken', z.strictObject({ name: tokenName }));

export const UpdateOrgToken = component('UpdateOrgToken', z.strictObject({ enabled: z.boolean() }));

// --- responses ----------------------------------------------------------------------------------

export const ErrorBody = component(
  'Error',
  z.strictObject({ ErrorId: z.string(), Message: z.string(), SupportId: z.string().meta({ description: "The request id of the call's access-log line (also in X-Request-Id)." }) }),
);

export const Me = component(
  'Me',
  z.strictObject({
    user: z.strictObject({ id: z.string(), loginName: z.string(), organization: z.strictObject({ id: z.string(), name: z.string() }) }),
    apiPermission: z.enum(['allowed', 'denied', 'not-granted']),
    csrfToken: z.string(),
    sessionExpiresAt: dateTime,
  }),
);

export const Token = component(
  'Token',
  z.strictObject({
    id: z.string(),
    name: z.string().min(1).max(NAME_MAX),
    hint: z.string().meta({ description: 'gtu_…abcd: the prefix and last four characters.' }),
    origin: z.enum(['minted', 'legacy']),
    enabled: z.boolean(),
    expiresAt: dateTime.nullable(),
    createdAt: dateTime,
    lastUsedAt: dateTime.nullable(),
    lastUsedIp: z.string().nullable(),
    lastUsedIps: z
      .array(z.strictObject({ ip: z.string(), lastUsedAt: dateTime }))
      .max(5)
      .meta({ description: 'The last few distinct client addresses, newest first (from the batched usage records).' }),
    expiresSoon: z.boolean().meta({ description: 'Expires within 7 days: calls with it get X-Gatehouse-Token-Expires.' }),
    revoked: z.boolean().meta({ description: 'Revoked (found in public code); calls get "token revoked: found in public code".' }),
    restrictions: Restrictions.nullable().meta({ description: 'What it is restricted to; null: everything its user may do.' }),
    restrictionsText: z.string().meta({ description: 'The restrictions in words: "Read envelopes · from 203.0.113.0/24 · API v5 and earlier".' }),
  }),
);

export const TokenList = component('TokenList', z.array(Token));

export const CreatedToken = component('CreatedToken', z.strictObject({ token: Token, secret: secretOf('gtu').meta({ description: 'Shown once; never again.' }) }));

export const RolledToken = component(
  'RolledToken',
  z.strictObject({ token: Token, secret: secretOf('gtu').meta({ description: 'The new secret; shown once.' }), oldSecretExpiresAt: dateTime }),
);

export const AuditEvent = z.strictObject({
  id: z.int(),
  at: dateTime,
  actor: z.string().meta({ description: '`cli`, `user:<id>`, `system:leaked-tokens`, …' }),
  action: z.string().meta({ description: 'e.g. token.create, token.roll, token.revoke' }),
  targetKind: z.string(),
  targetId: z.string(),
  organizationId: z.string().nullable(),
  source: z.string().nullable().meta({ description: 'Client address of the change.' }),
  detail: z.unknown(),
});

export const AuditList = component('AuditList', z.array(AuditEvent));

export const OrgToken = component(
  'OrgToken',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    hint: z
      .string()
      .regex(/^(gto_)?…/)
      .meta({ description: 'gto_…abcd; an imported key: …abcd (a GUID in lower case).' }),
    origin: z.enum(['minted', 'legacy']).meta({ description: "legacy: one of the platform's own organization keys, imported by the operator (`gatehouse org-token import-legacy`)." }),
    enabled: z.boolean(),
    createdAt: dateTime,
    lastUsedAt: dateTime.nullable(),
    lastUsedIp: z.string().nullable(),
  }),
);

export const OrgTokenSection = z.strictObject({ visible: z.boolean(), enabled: z.boolean(), reason: z.string().nullable(), warning: z.string() });

export const OrgTokens = component('OrgTokens', z.strictObject({ section: OrgTokenSection, tokens: z.array(OrgToken) }));

export const CreatedOrgToken = component('CreatedOrgToken', z.strictObject({ token: OrgToken, secret: secretOf('gto').meta({ description: 'Shown once; never again.' }) }));

/** An OAuth application the user authorized (one grant). */
export const App = z.strictObject({
  id: z.string().meta({ description: 'The grant id (revoke with DELETE /apps/{grantId}).' }),
  clientId: z.string(),
  name: z.string(),
  description: z.string(),
  logoUrl: z.string().nullable(),
  scopes: z.array(z.enum(SCOPE_NAMES)),
  scopeText: z.string().meta({ description: 'What the granted scope allows, in words: "Read envelopes and templates", "Everything".' }),
  firstAuthorizedAt: dateTime,
  lastUsedAt: dateTime.nullable(),
});

export const AppList = component('AppList', z.array(App));

// --- the types of both ends ---------------------------------------------------------------------
// Request bodies as a client writes them (z.input), responses as the server builds them (z.output).

export type SignIn = z.input<typeof SignIn>;
export type SetPassword = z.input<typeof SetPassword>;
export type CreateToken = z.input<typeof CreateToken>;
export type UpdateToken = z.input<typeof UpdateToken>;
export type Restrictions = z.output<typeof Restrictions>;
export type RollToken = z.input<typeof RollToken>;
export type CreateOrgToken = z.input<typeof CreateOrgToken>;
export type UpdateOrgToken = z.input<typeof UpdateOrgToken>;
export type ErrorBody = z.output<typeof ErrorBody>;
export type Me = z.output<typeof Me>;
export type Token = z.output<typeof Token>;
export type CreatedToken = z.output<typeof CreatedToken>;
export type RolledToken = z.output<typeof RolledToken>;
export type AuditEvent = z.output<typeof AuditEvent>;
export type OrgToken = z.output<typeof OrgToken>;
export type OrgTokenSection = z.output<typeof OrgTokenSection>;
export type OrgTokens = z.output<typeof OrgTokens>;
export type CreatedOrgToken = z.output<typeof CreatedOrgToken>;
export type App = z.output<typeof App>;
