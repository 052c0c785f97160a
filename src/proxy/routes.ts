// proxy/: the REST route table. `/Api/v{N}/<resource>/...` (Api in any case, v{N}.0 = v{N},
// N = 1..6, any resource) → the upstream config names for <resource>, else the default upstream.
// It names the public calls (`GET|HEAD /Api/v{N}/version`) and nothing else: which resources
// exist is the upstream's business. Works on an already normalized path.
// /!\ Hot path.
import type { UpstreamName } from '../config/schema.js';
import { restNeed } from '../permissions/rest-map.js';
import { API_VERSIONS, type Need } from '../permissions/vocabulary.js';

export const MIN_VERSION = API_VERSIONS.min;
export const MAX_VERSION = API_VERSIONS.max;

/** The one resource answered without a credential (GET and HEAD, no sub-path). */
export const PUBLIC_RESOURCE = 'version';

/**
 * Resources the platform documents. They only name a bounded label (`resource`) for metrics and
 * traces; every other resource is forwarded just the same, under the label `other`.
 */
export const DOCUMENTED_RESOURCES = [
  'authorization',
  'draft',
  'envelope',
  'envelopebulk',
  'file',
  'license',
  'organization',
  'recipient',
  'sspfile',
  'system',
  'team',
  'template',
  'user',
  PUBLIC_RESOURCE,
] as const;
export const OTHER_RESOURCE = 'other';

const API_PATH = /^\/api\/v(\d{1,3})(?:\.0)?(?:\/([^/]*)(.*))?$/i;

export interface RestRoute {
  version: number;
  /**
   * Resource family, a bounded label: the lower-cased first segment after the version when it is
   * documented or configured in `routes`, else `other` (a client must not mint metric labels).
   */
  resource: string;
  upstream: UpstreamName;
  /** The canonical path that is forwarded: `/Api/v{N}/<rest>`. */
  path: string;
  /** `GET /Api/v{N}/version`: needs no credential. */
  isPublic: boolean;
  /** What the call needs in the permission vocabulary (permissions/rest-map.ts); undefined = outside it. */
  need: Need | undefined;
}

export type RouteTable = (method: string, normalizedPath: string) => RestRoute | undefined;

export function isRestPath(path: string): boolean {
  return path.length >= 5 && path.slice(0, 5).toLowerCase() === '/api/';
}

interface Target {
  resource: string;
  upstream: UpstreamName;
}

/**
 * `routes` (resource → upstream, any case) are overrides; every other resource goes to
 * `defaultUpstream`. One map look-up per call, answered by targets built here, once.
 */
export function createRouteTable(routes: Record<string, UpstreamName>, defaultUpstream: UpstreamName = 'envelope'): RouteTable {
  const targets = new Map<string, Target>();
  for (const r of DOCUMENTED_RESOURCES) targets.set(r, { resource: r, upstream: defaultUpstream });
  for (const [k, upstream] of Object.entries(routes)) targets.set(k.toLowerCase(), { resource: k.toLowerCase(), upstream });
  const other: Target = { resource: OTHER_RESOURCE, upstream: defaultUpstream };
  return (method, normalizedPath) => {
    const m = API_PATH.exec(normalizedPath);
    if (!m) return undefined;
    const version = Number(m[1]);
    if (version < MIN_VERSION || version > MAX_VERSION) return undefined;
    // `/Api/v6` and `/Api/v6/` name no resource: not a route
    const segment = m[2];
    if (!segment) return undefined;
    const lower = segment.toLowerCase();
    const target = targets.get(lower) ?? other;
    const rest = m[3]!;
    const isPublic = lower === PUBLIC_RESOURCE && rest === '' && (method === 'GET' || method === 'HEAD');
    return { version, resource: target.resource, upstream: target.upstream, path: `/Api/v${version}/${segment}${rest}`, isPublic, need: restNeed(method, lower, rest) };
  };
}
