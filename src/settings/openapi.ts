// settings/: the OpenAPI 3.1 description of the settings JSON API, served at
// /settings/api/openapi.json. Its schemas are generated from the zod schemas of settings/wire.ts —
// the ones that validate the request bodies and type the responses — with `z.toJSONSchema` (JSON
// Schema 2020-12, OpenAPI 3.1's dialect); what is written here is only what a schema cannot say: the
// paths, their summaries and statuses. The integration tests validate real responses against it.
import { z } from 'zod';
import * as wire from './wire.js';

const COMPONENTS = '#/components/schemas/';

/** The components: every schema registered in wire.ts, referring to each other by $ref. */
function componentSchemas(): Record<string, object> {
  const { schemas } = z.toJSONSchema(wire.components, {
    target: 'draft-2020-12',
    uri: (id) => `${COMPONENTS}${id}`,
    override: ({ jsonSchema }) => {
      // `format: date-time` says it; zod's equivalent pattern would only make the document unreadable.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
  // Components of one document: no dialect or identity of their own.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]));
}

const ref = (schema: z.ZodType) => {
  const meta = wire.components.get(schema);
  if (!meta) throw new Error('settings/openapi.ts: a schema used in the document is not registered as a component in wire.ts');
  return { $ref: `${COMPONENTS}${meta.id}` };
};
const error = (description: string) => ({ description, content: { 'application/json': { schema: ref(wire.ErrorBody) } } });
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema: ref(schema) } } });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
const noBody = (description: string) => ({ description });
const csrf = { $ref: '#/components/parameters/CsrfToken' };
const pathId = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const tokenId = pathId('id');
const authErrors = { '401': error('No session, or it expired (SessionRequired, SessionExpired).') };
const writeErrors = { ...authErrors, '403': error('CSRF token missing or wrong.'), '415': error('The body is not application/json.') };
const notYours = error("No such token (also for another user's token).");

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Gatehouse settings API',
    version: '1.0.0',
    description:
      'The JSON API behind the "API Tokens and Apps" page. Authenticated by the session cookie; every request that changes something also needs the X-CSRF-Token header returned by GET /me. Errors use the platform error body, whose SupportId is the request id of the call\'s access-log line.',
  },
  servers: [{ url: '/settings/api' }],
  security: [{ session: [] }],
  paths: {
    '/session': {
      post: {
        summary: 'Sign in with a login name and password',
        security: [],
        requestBody: body(wire.SignIn),
        responses: {
          '200': json('Signed in; sets the session cookie.', wire.Me),
          '400': error('Invalid body.'),
          '401': error('Wrong login name or password.'),
          '429': error('Too many failed sign-ins from this address, or for this login name from anywhere (the OAuth consent sign-in counts too); the right password is refused as well until Retry-After.'),
        },
      },
      delete: { summary: 'Sign out', parameters: [csrf], responses: { '204': noBody('Signed out.'), ...writeErrors } },
    },
    '/password': {
      post: {
        summary: 'Set a password with a one-time link token, and sign in',
        security: [],
        requestBody: body(wire.SetPassword),
        responses: {
          '200': json('Password set; signed in.', wire.Me),
          '400': error('Weak password, or the link is invalid, used or expired.'),
          '429': error('Too many failed attempts from this address; see Retry-After.'),
        },
      },
    },
    '/me': { get: { summary: 'The signed-in user and the CSRF token', responses: { '200': json('The session.', wire.Me), ...authErrors } } },
    '/tokens': {
      get: { summary: "The user's API tokens (never their secrets)", responses: { '200': json('The tokens.', wire.TokenList), ...authErrors } },
      post: {
        summary: 'Create an API token; it starts disabled. The response is the only one that ever carries the secret.',
        parameters: [csrf],
        requestBody: body(wire.CreateToken),
        responses: { '201': json('Created.', wire.CreatedToken), '400': error('Invalid name, expiry or restrictions (an unknown permission, a network that is not a CIDR, a version outside 1–6).'), '409': error('The user already has a token of that name.'), ...writeErrors },
      },
    },
    '/tokens/{id}': {
      patch: {
        summary: 'Rename, enable or disable, or change the expiry of a token',
        parameters: [tokenId, csrf],
        requestBody: body(wire.UpdateToken),
        responses: { '200': json('Updated.', wire.Token), '400': error('Invalid body.'), '404': notYours, '409': error('The user already has a token of that name.'), ...writeErrors },
      },
      delete: {
        summary: 'Delete a token; integrations using it stop working at once',
        parameters: [tokenId, csrf],
        responses: { '204': noBody('Deleted.'), '404': notYours, ...writeErrors },
      },
    },
    '/tokens/{id}/restrictions': {
      put: {
        summary: 'Set what a token is restricted to, replacing its restrictions; {} lifts them all. Calls outside them are refused with 403 TokenRestricted',
        parameters: [tokenId, csrf],
        requestBody: body(wire.Restrictions),
        responses: {
          '200': json('Restricted; the token with its new restrictions and their words.', wire.Token),
          '400': error('Invalid restrictions (an unknown permission, a network that is not a CIDR, a version outside 1–6); nothing is changed.'),
          '404': notYours,
          ...writeErrors,
        },
      },
    },
    '/tokens/{id}/roll': {
      post: {
        summary: 'Roll a token: a new secret for the same token (same id and name); the old secret keeps working until the chosen time',
        parameters: [tokenId, csrf],
        requestBody: body(wire.RollToken),
        responses: {
          '200': json('Rolled. The only response that carries the new secret.', wire.RolledToken),
          '400': error('Invalid body, or the token is revoked.'),
          '404': notYours,
          ...writeErrors,
        },
      },
    },
    '/audit': {
      get: { summary: "The signed-in user's own credential events, newest first (at most 200)", responses: { '200': json('The events.', wire.AuditList), ...authErrors } },
    },
    '/org-tokens': {
      get: { summary: 'The organization API tokens section (deprecated tokens) and, when enabled, its tokens', responses: { '200': json('The section and its tokens.', wire.OrgTokens), ...authErrors } },
      post: {
        summary: 'Create an organization API token; the secret is in this response only, and the token starts disabled',
        parameters: [csrf],
        requestBody: body(wire.CreateOrgToken),
        responses: {
          '201': json('Created.', wire.CreatedOrgToken),
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
        requestBody: body(wire.UpdateOrgToken),
        responses: {
          '200': json('Updated.', wire.OrgToken),
          '400': error('The body is not {"enabled": true|false}.'),
          ...writeErrors,
          '403': error('The section is disabled, or the CSRF token is missing.'),
          '404': error('No such organization token.'),
        },
      },
      delete: {
        summary: 'Delete an organization token',
        parameters: [tokenId, csrf],
        responses: { '204': noBody('Deleted.'), ...writeErrors, '403': error('The section is disabled, or the CSRF token is missing.'), '404': error('No such organization token.') },
      },
    },
    '/apps': { get: { summary: 'OAuth applications the user authorized', responses: { '200': json('The grants.', wire.AppList), ...authErrors } } },
    '/apps/{grantId}': {
      delete: {
        summary: "Revoke an application's access",
        parameters: [pathId('grantId'), csrf],
        responses: { '204': noBody('Revoked.'), '404': error('No such authorization.'), ...writeErrors },
      },
    },
  },
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'gatehouse_session' } },
    parameters: { CsrfToken: { name: 'X-CSRF-Token', in: 'header', required: true, schema: { type: 'string' } } },
    schemas: componentSchemas(),
  },
};
