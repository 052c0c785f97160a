// oauth/endpoints: CORS (the Fetch standard's CORS protocol) for the endpoints a browser-based
// application calls itself. Discovery (metadata, JWKS) is public to every origin: public documents,
// no credential read, nothing changed. The token and revocation endpoints answer only the origins of
// the enabled *public* clients' registered redirect URIs (as oidc-provider's default
// clientBasedCORS): the exact origin echoed with `Vary: Origin`, never credentials mode (no cookie
// is read there). A request from any other origin is refused before its body is read, so a form
// or fetch from another site cannot spend a code or a refresh token; once the client is known
// (client-auth.ts), the origin must be one of *its* redirect URIs' origins. Everything else the
// gateway serves (the REST API, the settings API) sends no CORS headers at all.
import type { Request, RequestHandler, Response } from 'express';
import { originNotAllowed } from '../errors.js';

/** How long a browser may keep a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE = '600';

/** The web origin of a redirect URI; none for an app's custom scheme (its origin is the opaque "null"). */
export function webOrigin(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
}

/** Whether `origin` (a request's Origin header) is the web origin of one of `redirectUris`. */
export function originOf(redirectUris: string[], origin: string): boolean {
  return redirectUris.some((uri) => webOrigin(uri) === origin);
}

const isPreflight = (req: Request) => req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;

/** Discovery: readable from any origin (`*`: one cacheable answer for all, no Vary). */
export function publicCors(methods: string[]): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'OPTIONS') {
      if (methods.includes(req.method)) res.set('Access-Control-Allow-Origin', '*');
      return next();
    }
    res.set('Access-Control-Allow-Origin', '*');
    res.set({ Allow: [...methods, 'OPTIONS'].join(', '), 'Access-Control-Allow-Methods': methods.join(', '), 'Access-Control-Max-Age': PREFLIGHT_MAX_AGE });
    res.status(204).end();
  };
}

export interface ClientCorsOptions {
  /** The methods the endpoint answers, besides OPTIONS. */
  methods: string[];
  /** The redirect URIs of the enabled public clients, read for each request that names an Origin. */
  publicRedirectUris: () => Promise<string[]>;
}

/**
 * The token and revocation endpoints: the answer to a preflight (OPTIONS), and on every request
 * `Vary: Origin` and, for an allowed origin, `Access-Control-Allow-Origin` (errors included, so the
 * application can read them). Another origin is refused (403) before anything runs.
 */
export function clientCors(opts: ClientCorsOptions): RequestHandler {
  const allow = [...opts.methods, 'OPTIONS'].join(', ');
  const methods = opts.methods.join(', ');
  const answerOptions = (res: Response) => res.set('Allow', allow).status(204).end();
  return async (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return req.method === 'OPTIONS' ? void answerOptions(res) : next();
    if (!originOf(await opts.publicRedirectUris(), origin)) throw originNotAllowed();
    res.set('Access-Control-Allow-Origin', origin);
    if (!isPreflight(req)) {
      if (req.method === 'OPTIONS') return void answerOptions(res);
      // The support id of an error, for the application to show
      res.set('Access-Control-Expose-Headers', 'X-Request-Id');
      return next();
    }
    // Form bodies need no preflight; Content-Type is listed for a charset or parameter that makes one.
    res.set({ 'Access-Control-Allow-Methods': methods, 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': PREFLIGHT_MAX_AGE });
    answerOptions(res);
  };
}
