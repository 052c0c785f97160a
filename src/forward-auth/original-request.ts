// forward-auth/: which request an edge is asking about. Each edge says it its own way:
//   nginx auth_request (our config)  X-Original-URI + X-Original-Method
//   ingress-nginx auth-url           X-Original-URL (absolute) + X-Original-Method
//   Traefik ForwardAuth              X-Forwarded-Uri + X-Forwarded-Method (the request itself is a GET)
//   Envoy HTTP ext_authz             the original path after the decision path (`path_prefix`), the original method
// An edge passes the client's own headers to the decision too, so a client could add one of these
// names beside the one its edge sets: every source present must name the same request, or the
// decision is refused (400) — never judged on whichever a client chose. Pure.
import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError } from '../outcomes/errors.js';

export interface OriginalRequest {
  method: string;
  /** The original request target, path and query, as the client sent it. */
  uri: string;
}

export class OriginalRequestMissing extends GatehouseError {
  readonly code = 'OriginalRequestMissing';
  readonly status = 400;
  constructor() {
    super('The authorization request does not name the request it is about (X-Original-URI, X-Original-URL, X-Forwarded-Uri, or a path under the decision path).');
  }
}

export class OriginalRequestConflict extends GatehouseError {
  readonly code = 'OriginalRequestConflict';
  readonly status = 400;
  constructor() {
    super('The authorization request names two different original requests.');
  }
}

// RFC 9110 §5.6.2 token
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
// scheme://authority, then the request target (nginx: `$scheme://$http_host$request_uri`; a Host never holds '/')
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*(\/[^]*)?$/;

/** The one value of a header an edge sets once (node joins repeated unknown headers with ", "). */
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** Every source that is present must agree; undefined when none is. */
function agreed(values: (string | undefined)[]): string | undefined | OriginalRequestConflict {
  let found: string | undefined;
  for (const v of values) {
    if (v === undefined) continue;
    if (found !== undefined && v !== found) return new OriginalRequestConflict();
    found = v;
  }
  return found;
}

/**
 * The original method and URI of a decision request. `rawUrl` is the decision request's own URL;
 * under `decisionPath` + `/` it carries the original path (Envoy). `method` is the decision
 * request's own method, the original one unless a header says otherwise.
 */
export function originalRequest(headers: IncomingHttpHeaders, rawUrl: string, decisionPath: string, method: string): OriginalRequest | GatehouseError {
  const suffix = rawUrl.length > decisionPath.length && rawUrl[decisionPath.length] === '/' ? rawUrl.slice(decisionPath.length) : undefined;
  const url = one(headers['x-original-url']);
  const fromUrl = url === undefined ? undefined : ABSOLUTE.exec(url) ? (ABSOLUTE.exec(url)![1] ?? '/') : '';
  const uri = agreed([suffix, one(headers['x-original-uri']), fromUrl, one(headers['x-forwarded-uri'])]);
  if (uri instanceof GatehouseError) return uri;
  if (!uri) return new OriginalRequestMissing();
  const named = agreed([one(headers['x-original-method']), one(headers['x-forwarded-method'])]);
  if (named instanceof GatehouseError) return named;
  const m = named ?? method;
  if (!METHOD.test(m)) return new OriginalRequestMissing();
  return { method: m, uri };
}
