// oauth/endpoints: discovery — the authorization server metadata (RFC 8414) and the public keys
// that verify access tokens (RFC 7517 JWKS). Public, cacheable for five minutes, and readable from
// any origin (CORS `*`, cors.ts): browser-based clients discover the server and its keys themselves.
import express, { type Router } from 'express';
import { OAUTH_SCOPES } from '../../permissions/vocabulary.js';
import type { SigningKeys } from '../keys.js';
import { publicCors } from './cors.js';

const CACHE = 'public, max-age=300';
const METADATA = '/.well-known/oauth-authorization-server';
const JWKS = '/.well-known/jwks.json';
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

export interface MetadataDeps {
  issuer: () => string;
  keys: Pick<SigningKeys, 'jwks'>;
}

export function metadataEndpoints(deps: MetadataDeps): Router {
  const router = express.Router();
  router.all([METADATA, JWKS], publicCors(['GET', 'HEAD']));

  router.get(METADATA, (_req, res) => {
    const base = deps.issuer();
    res.set('Cache-Control', CACHE).json({
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: OAUTH_SCOPES,
      token_endpoint_auth_methods_supported: AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: AUTH_METHODS,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  router.get(JWKS, (_req, res) => {
    res.set('Cache-Control', CACHE).json(deps.keys.jwks());
  });

  return router;
}
