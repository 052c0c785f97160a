// oauth/: checks an authorization request (RFC 6749 §4.1.1, RFC 7636). A bad client or redirect
// URI is shown to the user, never redirected to (§4.1.2.1); anything else goes back to the client
// as `error` on its redirect URI, with `state`. PKCE: S256 only, required for public clients.
// Scopes: the permission vocabulary's (scopes.ts), kept in their one form.
import { OAUTH_SCOPES } from '../permissions/vocabulary.js';
import type { OAuthClientsTable } from '../store/tables.js';
import type { OAuthStore } from '../store/oauth-store.js';
import { DEFAULT_SCOPE, normalizeScope } from './scopes.js';

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/; // base64url of a SHA-256 digest
const STATE_MAX = 500;

export interface AuthorizeRequest {
  client: OAuthClientsTable;
  redirectUri: string;
  scope: string;
  state: string | undefined;
  codeChallenge: string | null;
}

export type AuthorizeCheck =
  | { ok: true; request: AuthorizeRequest }
  /** Shown to the user: the client or redirect URI cannot be trusted. */
  | { ok: false; show: string }
  /** Sent back to the client on its (verified) redirect URI. */
  | { ok: false; redirect: string };

const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The client's redirect URI with the answer's parameters appended (RFC 6749 §4.1.2; RFC 9207 `iss`). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

export async function checkAuthorizeRequest(query: Record<string, unknown>, store: Pick<OAuthStore, 'findClient'>, issuer: string): Promise<AuthorizeCheck> {
  for (const [k, v] of Object.entries(query)) if (typeof v !== 'string') return { ok: false, show: `The parameter ${k} is repeated.` };
  const clientId = one(query.client_id);
  if (!clientId) return { ok: false, show: 'The application did not say who it is (client_id is missing).' };
  const client = await store.findClient(clientId);
  if (!client) return { ok: false, show: 'This application is not registered.' };
  const redirectUri = one(query.redirect_uri);
  const registered = JSON.parse(client.redirect_uris) as string[];
  // Exact string match (no prefix, no normalization), so a look-alike URI cannot receive a code.
  // Required (as in OAuth 2.1), so the token request can always be held to the same value.
  if (redirectUri === undefined) return { ok: false, show: 'The application did not say where to send you back (redirect_uri is missing).' };
  if (!registered.includes(redirectUri)) return { ok: false, show: 'The redirect URI does not match the one registered for this application.' };
  const target = redirectUri;
  const state = one(query.state);
  const fail = (error: string, description: string): AuthorizeCheck => ({ ok: false, redirect: redirectWith(target, { error, error_description: description, state, iss: issuer }) });
  if (client.enabled !== 1) return fail('unauthorized_client', 'This application has been disabled.');
  if (state !== undefined && state.length > STATE_MAX) return fail('invalid_request', 'state is too long.');
  if (one(query.response_type) !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
  const scope = normalizeScope(one(query.scope) ?? DEFAULT_SCOPE);
  if (scope === undefined) return fail('invalid_scope', `Known scopes: ${OAUTH_SCOPES.join(', ')}.`);
  const challenge = one(query.code_challenge);
  const method = one(query.code_challenge_method);
  if (challenge === undefined) {
    if (method !== undefined) return fail('invalid_request', 'code_challenge_method without code_challenge.');
    if (client.public === 1) return fail('invalid_request', 'PKCE is required for this application: send code_challenge with code_challenge_method=S256.');
  } else {
    if (method !== 'S256') return fail('invalid_request', 'Only code_challenge_method=S256 is accepted (plain is refused).');
    if (!CHALLENGE.test(challenge)) return fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters).');
  }
  return { ok: true, request: { client, redirectUri: target, scope, state, codeChallenge: challenge ?? null } };
}
