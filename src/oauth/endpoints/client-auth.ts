// oauth/endpoints: client authentication at the token, revocation and introspection endpoints
// (RFC 6749 §2.3.1): HTTP Basic or client_secret in the body, never both; a public client sends
// only its client_id. Every failure is the same invalid_client. A request from a browser (with an
// Origin header) is accepted only from a public client, from the origin of one of its redirect URIs.
import type { Request } from 'express';
import type { OAuthClientsTable } from '../../store/tables.js';
import { invalidClient, originNotAllowed } from '../errors.js';
import { secretMatches, type OAuthStore } from '../../store/oauth-store.js';
import { originOf } from './cors.js';

const BASIC = /^Basic[ ]+([A-Za-z0-9+/=]+)$/i;

export type AuthenticateClient = (req: Request, body: Record<string, string>, opts?: { confidentialOnly?: boolean }) => Promise<OAuthClientsTable>;

export function clientAuthenticator(clients: Pick<OAuthStore, 'findClient'>): AuthenticateClient {
  return async (req, body, opts = {}) => {
    let id = body.client_id;
    let secret = body.client_secret;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = BASIC.exec(header);
      const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0 || secret !== undefined) throw invalidClient('Use one client authentication method: HTTP Basic or client_secret in the body.');
      // §2.3.1: the id and secret are form-encoded before Basic encoding.
      try {
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw invalidClient();
      }
      if (body.client_id !== undefined && body.client_id !== id) throw invalidClient();
    }
    if (!id) throw invalidClient('client_id is missing.');
    const client = await clients.findClient(id);
    if (!client || client.enabled !== 1) throw invalidClient();
    // A browser's request (it names its Origin): a public client's, from one of its redirect URIs' origins
    const origin = req.headers.origin;
    if (origin !== undefined && !(client.public === 1 && originOf(JSON.parse(client.redirect_uris) as string[], origin))) throw originNotAllowed();
    if (client.public === 1) {
      if (opts.confidentialOnly) throw invalidClient('Only confidential clients may introspect tokens.');
      if (secret !== undefined) throw invalidClient();
      return client;
    }
    if (secret === undefined || !secretMatches(secret, client.secret_hash)) throw invalidClient();
    return client;
  };
}
