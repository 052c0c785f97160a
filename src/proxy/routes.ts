// proxy/: the REST route table. `/Api/v{N}/<resource>/...` (Api in any case, v{N}.0 = v{N},
// N = 1..6) → the upstream configured for <resource>. Works on an already normalized path.
// /!\ Hot path.
import type { UpstreamName } from '../config/schema.js';

export const MIN_VERSION = 1;
export const MAX_VERSION = 6;

const API_PATH = /^\/api\/v(\d{1,3})(?:\.0)?(?:\/([^/]*)(.*))?$/i;

export interface RestRoute {
  version: number;
  /** Lower-cased first segment after the version. */
  resource: string;
  upstream: UpstreamName;
  /** The canonical path that is forwarded: `/Api/v{N}/<rest>`. */
  path: string;
  /** `GET /Api/v{N}/version`: needs no credential. */
  isPublic: boolean;
}

export type RouteTable = (method: string, normalizedPath: string) => RestRoute | undefined;

export function isRestPath(path: string): boolean {
  return path.length >= 5 && path.slice(0, 5).toLowerCase() === '/api/';
}

export function createRouteTable(routes: Record<string, UpstreamName>): RouteTable {
  const byResource = new Map(Object.entries(routes).map(([k, v]) => [k.toLowerCase(), v]));
  return (method, normalizedPath) => {
    const m = API_PATH.exec(normalizedPath);
    if (!m) return undefined;
    const version = Number(m[1]);
    if (version < MIN_VERSION || version > MAX_VERSION) return undefined;
    const resource = (m[2] ?? '').toLowerCase();
    const upstream = byResource.get(resource);
    if (!upstream) return undefined;
    const isPublic = resource === 'version' && (m[3] ?? '') === '' && (method === 'GET' || method === 'HEAD');
    return { version, resource, upstream, path: `/Api/v${version}/${m[2]}${m[3] ?? ''}`, isPublic };
  };
}
