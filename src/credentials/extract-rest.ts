// credentials/: finds the single credential of a REST request (DESIGN.md §3.1). Header names
// arrive lower-cased from node:http, so `apiToken`, `APITOKEN` and `apitoken` are one header.
// /!\ Hot path.
import type { IncomingHttpHeaders } from 'node:http';
import { CredentialConflict, CredentialMissing, type GatehouseError } from '../outcomes/errors.js';

export const API_TOKEN_HEADER = 'apitoken';
export const AUTHORIZATION_HEADER = 'authorization';
const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

/** Request headers that carry credentials: never forwarded upstream. */
export const CREDENTIAL_HEADERS = [API_TOKEN_HEADER, AUTHORIZATION_HEADER, 'organizationkey', 'userloginname'] as const;

export interface PresentedCredential {
  /** Which carrier it came in, for the access log. */
  carrier: 'apiToken' | 'bearer';
  secret: string;
}

export function extractRestCredential(headers: IncomingHttpHeaders): PresentedCredential | GatehouseError {
  const rawApiToken = headers[API_TOKEN_HEADER];
  // node joins repeated unknown headers with ", "; two apiToken headers with different values conflict
  const apiTokens = rawApiToken === undefined ? undefined : [...new Set((Array.isArray(rawApiToken) ? rawApiToken : rawApiToken.split(',')).map((v) => v.trim()))];
  const authorization = headers[AUTHORIZATION_HEADER];
  const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  // No credential header
  if (apiTokens === undefined && bearer === undefined) return new CredentialMissing();
  // Two different credentials
  if (apiTokens !== undefined && (apiTokens.length > 1 || (bearer !== undefined && apiTokens[0] !== bearer))) {
    return new CredentialConflict();
  }
  if (apiTokens !== undefined) return { carrier: 'apiToken', secret: apiTokens[0] ?? '' };
  return { carrier: 'bearer', secret: bearer! };
}
