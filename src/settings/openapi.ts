// settings/: the OpenAPI 3.1 description of the settings JSON API, served at
// /settings/api/openapi.json. The integration tests validate real responses against these schemas.
const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (description: string, ref: string) => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const body = (ref: string) => ({ required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const csrf = { $ref: '#/components/parameters/CsrfToken' };
const tokenId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const authErrors = { '401': error('No session, or it expired (SessionRequired, SessionExpired).') };
const writeErrors = { ...authErrors, '403': error('CSRF token missing or wrong.'), '415': error('The body is not application/json.') };
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Gatehouse settings API',
    version: '1.0.0',
    description:
      'The JSON API behind the "API Tokens and Apps" page. Authenticated by the session cookie; every request that changes something also needs the X-CSRF-Token header returned by GET /me. Errors use the platform error body.',
  },
  servers: [{ url: '/settings/api' }],
  security: [{ session: [] }],
  paths: {
    '/session': {
      post: {
        summary: 'Sign in with a login name and password',
        security: [],
        requestBody: body('SignIn'),
        responses: { '200': json('Signed in; sets the session cookie.', 'Me'), '400': error('Invalid body.'), '401': error('Wrong login name or password.'), '429': error('Too many failed sign-ins from this address for this login; see Retry-After.') },
      },
      delete: { summary: 'Sign out', parameters: [csrf], responses: { '204': { description: 'Signed out.' }, ...writeErrors } },
    },
    '/password': {
      post: {
        summary: 'Set a password with a one-time link token, and sign in',
        security: [],
        requestBody: body('SetPassword'),
        responses: { '200': json('Password set; signed in.', 'Me'), '400': error('Weak password, or the link is invalid, used or expired.'), '429': error('Too many failed attempts from this address; see Retry-After.') },
      },
    },
    '/me': { get: { summary: 'The signed-in user and the CSRF token', responses: { '200': json('The session.', 'Me'), ...authErrors } } },
    '/tokens': {
      get: { summary: "The user's API tokens (never their secrets)", responses: { '200': json('The tokens.', 'TokenList'), ...authErrors } },
      post: {
        summary: 'Create an API token; it starts disabled. The response is the only one that ever carries the secret.',
        parameters: [csrf],
        requestBody: body('CreateToken'),
        responses: { '201': json('Created.', 'CreatedToken'), '400': error('Invalid name or expiry.'), '409': error('The user already has a token of that name.'), ...writeErrors },
      },
    },
    '/tokens/{id}': {
      patch: {
        summary: 'Rename, enable or disable, or change the expiry of a token',
        parameters: [tokenId, csrf],
        requestBody: body('UpdateToken'),
        responses: {
          '200': json('Updated.', 'Token'),
          '400': error('Invalid body.'),
          '404': error("No such token (also for another user's token)."),
          '409': error('The user already has a token of that name.'),
          ...writeErrors,
        },
      },
      delete: {
        summary: 'Delete a token; integrations using it stop working at once',
        parameters: [tokenId, csrf],
        responses: { '204': { description: 'Deleted.' }, '404': error("No such token (also for another user's token)."), ...writeErrors },
      },
    },
    '/tokens/{id}/roll': {
      post: {
        summary: 'Roll a token: a new secret for the same token (same id and name); the old secret keeps working until the chosen time',
        parameters: [tokenId, csrf],
        requestBody: body('RollToken'),
        responses: {
          '200': json('Rolled. The only response that carries the new secret.', 'RolledToken'),
          '400': error('Invalid body, or the token is revoked.'),
          '404': error("No such token (also for another user's token)."),
          ...writeErrors,
        },
      },
    },
    '/audit': {
      get: { summary: "The signed-in user's own credential events, newest first (at most 200)", responses: { '200': json('The events.', 'AuditList'), ...authErrors } },
    },
    '/org-tokens': {
      get: { summary: 'The organization API tokens section (deprecated tokens) and, when enabled, its tokens', responses: { '200': json('The section and its tokens.', 'OrgTokens'), ...authErrors } },
      post: {
        summary: 'Create an organization API token; the secret is in this response only, and the token starts disabled',
        parameters: [csrf],
        requestBody: body('CreateOrgToken'),
        responses: {
          '201': json('Created.', 'CreatedOrgToken'),
          '400': error('The name is missing, too long, or the body has unknown fields.'),
          ...writeErrors,
          '403': error('The section is disabled (the reason says why), or the CSRF token is missing.'),
          '404': error('The organization does not use organization tokens.'),
        },
      },
    },
    '/org-tokens/{id}': {
      patch: {
        summary: 'Enable or disable an organization token',
        parameters: [tokenId, csrf],
        requestBody: body('UpdateOrgToken'),
        responses: { '200': json('Updated.', 'OrgToken'), '400': error('The body is not {"enabled": true|false}.'), ...writeErrors, '403': error('The section is disabled, or the CSRF token is missing.'), '404': error('No such organization token.') },
      },
      delete: {
        summary: 'Delete an organization token',
        parameters: [tokenId, csrf],
        responses: { '204': { description: 'Deleted.' }, ...writeErrors, '403': error('The section is disabled, or the CSRF token is missing.'), '404': error('No such organization token.') },
      },
    },
    '/apps': { get: { summary: 'OAuth applications the user authorized', responses: { '200': json('The grants.', 'AppList'), ...authErrors } } },
    '/apps/{grantId}': {
      delete: {
        summary: "Revoke an application's access",
        parameters: [{ name: 'grantId', in: 'path', required: true, schema: { type: 'string' } }, csrf],
        responses: { '204': { description: 'Revoked.' }, '404': error('No such authorization.'), ...writeErrors },
      },
    },
  },
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'gatehouse_session' } },
    parameters: { CsrfToken: { name: 'X-CSRF-Token', in: 'header', required: true, schema: { type: 'string' } } },
    schemas: {
      Error: {
        type: 'object',
        required: ['ErrorId', 'Message', 'SupportId'],
        additionalProperties: false,
        properties: { ErrorId: { type: 'string' }, Message: { type: 'string' }, SupportId: { type: 'string' } },
      },
      SignIn: {
        type: 'object',
        required: ['login', 'password'],
        additionalProperties: false,
        properties: { login: { type: 'string' }, password: { type: 'string', writeOnly: true } },
      },
      SetPassword: {
        type: 'object',
        required: ['token', 'password'],
        additionalProperties: false,
        properties: { token: { type: 'string', description: 'From the link fragment (#token=…).' }, password: { type: 'string', minLength: 8, maxLength: 256, writeOnly: true } },
      },
      Me: {
        type: 'object',
        required: ['user', 'apiPermission', 'csrfToken', 'sessionExpiresAt'],
        additionalProperties: false,
        properties: {
          user: {
            type: 'object',
            required: ['id', 'loginName', 'organization'],
            additionalProperties: false,
            properties: {
              id: { type: 'string' },
              loginName: { type: 'string' },
              organization: { type: 'object', required: ['id', 'name'], additionalProperties: false, properties: { id: { type: 'string' }, name: { type: 'string' } } },
            },
          },
          apiPermission: { enum: ['allowed', 'denied', 'not-granted'] },
          csrfToken: { type: 'string' },
          sessionExpiresAt: dateTime,
        },
      },
      Token: {
        type: 'object',
        required: ['id', 'name', 'hint', 'origin', 'enabled', 'expiresAt', 'createdAt', 'lastUsedAt', 'lastUsedIp', 'lastUsedIps', 'expiresSoon', 'revoked'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          name: { type: 'string', minLength: 1, maxLength: 100 },
          hint: { type: 'string', description: 'gtu_…abcd: the prefix and last four characters.' },
          origin: { enum: ['minted', 'legacy'] },
          enabled: { type: 'boolean' },
          expiresAt: nullableDateTime,
          createdAt: dateTime,
          lastUsedAt: nullableDateTime,
          lastUsedIp: { type: ['string', 'null'] },
          lastUsedIps: {
            type: 'array',
            maxItems: 5,
            description: 'The last few distinct client addresses, newest first (from the batched usage records).',
            items: { type: 'object', required: ['ip', 'lastUsedAt'], additionalProperties: false, properties: { ip: { type: 'string' }, lastUsedAt: dateTime } },
          },
          expiresSoon: { type: 'boolean', description: 'Expires within 7 days: calls with it get X-Gatehouse-Token-Expires.' },
          revoked: { type: 'boolean', description: 'Revoked (found in public code); calls get "token revoked: found in public code".' },
        },
      },
      RollToken: {
        type: 'object',
        required: ['oldExpires'],
        additionalProperties: false,
        properties: { oldExpires: { enum: ['now', '1h', '24h', '7d'], description: 'How long the old secret keeps working.' } },
      },
      RolledToken: {
        type: 'object',
        required: ['token', 'secret', 'oldSecretExpiresAt'],
        additionalProperties: false,
        properties: {
          token: { $ref: '#/components/schemas/Token' },
          secret: { type: 'string', pattern: '^gtu_[0-9A-Za-z]{36}$', description: 'The new secret; shown once.' },
          oldSecretExpiresAt: dateTime,
        },
      },
      AuditList: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'at', 'actor', 'action', 'targetKind', 'targetId', 'organizationId', 'source', 'detail'],
          additionalProperties: false,
          properties: {
            id: { type: 'integer' },
            at: dateTime,
            actor: { type: 'string', description: '`cli`, `user:<id>`, `system:leaked-tokens`, …' },
            action: { type: 'string', description: 'e.g. token.create, token.roll, token.revoke' },
            targetKind: { type: 'string' },
            targetId: { type: 'string' },
            organizationId: { type: ['string', 'null'] },
            source: { type: ['string', 'null'], description: 'Client address of the change.' },
            detail: {},
          },
        },
      },
      TokenList: { type: 'array', items: { $ref: '#/components/schemas/Token' } },
      CreateToken: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, expiresAt: nullableDateTime },
      },
      CreatedToken: {
        type: 'object',
        required: ['token', 'secret'],
        additionalProperties: false,
        properties: {
          token: { $ref: '#/components/schemas/Token' },
          secret: { type: 'string', pattern: '^gtu_[0-9A-Za-z]{36}$', description: 'Shown once; never again.' },
        },
      },
      UpdateToken: {
        type: 'object',
        minProperties: 1,
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, enabled: { type: 'boolean' }, expiresAt: nullableDateTime },
      },
      OrgTokens: {
        type: 'object',
        required: ['section', 'tokens'],
        additionalProperties: false,
        properties: {
          section: {
            type: 'object',
            required: ['visible', 'enabled', 'reason', 'warning'],
            additionalProperties: false,
            properties: { visible: { type: 'boolean' }, enabled: { type: 'boolean' }, reason: { type: ['string', 'null'] }, warning: { type: 'string' } },
          },
          tokens: { type: 'array', items: { $ref: '#/components/schemas/OrgToken' } },
        },
      },
      OrgToken: {
        type: 'object',
        required: ['id', 'name', 'hint', 'origin', 'enabled', 'createdAt', 'lastUsedAt', 'lastUsedIp'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          hint: { type: 'string', pattern: '^(gto_)?…', description: 'gto_…abcd; an imported key: …abcd (a GUID in lower case).' },
          origin: { enum: ['minted', 'legacy'], description: "legacy: one of the platform's own organization keys, imported by the operator (`gatehouse org-token import-legacy`)." },
          enabled: { type: 'boolean' },
          createdAt: { type: 'string', format: 'date-time' },
          lastUsedAt: { type: ['string', 'null'] },
          lastUsedIp: { type: ['string', 'null'] },
        },
      },
      CreateOrgToken: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } },
      UpdateOrgToken: { type: 'object', required: ['enabled'], additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      CreatedOrgToken: {
        type: 'object',
        required: ['token', 'secret'],
        additionalProperties: false,
        properties: { token: { $ref: '#/components/schemas/OrgToken' }, secret: { type: 'string', pattern: '^gto_[0-9A-Za-z]{36}$' } },
      },
      AppList: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'clientId', 'name', 'description', 'logoUrl', 'scopes', 'firstAuthorizedAt', 'lastUsedAt'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', description: 'The grant id (revoke with DELETE /apps/{grantId}).' },
            clientId: { type: 'string' },
            name: { type: 'string' },
            description: { type: 'string' },
            logoUrl: { type: ['string', 'null'] },
            scopes: { type: 'array', items: { type: 'string', enum: ['api', 'api:read'] } },
            firstAuthorizedAt: { type: 'string', format: 'date-time' },
            lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
      },
    },
  },
} as const;
