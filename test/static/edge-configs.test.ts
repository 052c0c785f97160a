// The edge configurations shipped for forward-auth mode (docs/forward-auth.md), checked as text:
// nginx's with `nginx -t` (it also runs for real in test/integration/forward-auth-nginx.test.ts);
// Envoy's ext_authz snippet and Traefik's CRDs parsed, every field name one the projects document
// (Envoy's API protos; Traefik's ForwardAuth, Headers and IngressRoute references), and all of them
// against Gatehouse itself: the decision path, the headers it answers, the credential headers it
// reads — which every edge must pass to the decision and strip before the platform.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CREDENTIAL_HEADERS } from '../../src/credentials/extract-rest.js';
import { IDENTITY, JUDGED_URI, REFUSAL_BODY, REFUSAL_STATUS } from '../../src/forward-auth/decision.js';
import { checkConfig, NGINX, renderServerBlock, SHIPPED, wrapConfig } from '../helpers/nginx.mjs';
import { ROOT } from '../helpers/processes.js';

const DECISION_PATH = loadConfig({ NODE_ENV: 'test' }).forwardAuth.path;
const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase()).sort();
const yamlDocs = (file: string) => parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((d) => d.toJS() as any);

/** Every key of `value` (recursively) is one `schema` names; returns the paths of those it does not. */
type Schema = { [key: string]: Schema | true };
function unknownFields(value: unknown, schema: Schema | true, path = ''): string[] {
  if (schema === true || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownFields(v, schema, `${path}[${i}]`));
  return Object.entries(value).flatMap(([k, v]) => (k in schema ? unknownFields(v, schema[k]!, `${path}.${k}`) : [`${path}.${k}`]));
}

describe('config/nginx/gatehouse-forward-auth.conf', () => {
  const conf = readFileSync(SHIPPED, 'utf8');
  const restLocation = conf.slice(conf.indexOf('location ~* ^/api/'), conf.indexOf('location = /_gatehouse_decision'));

  it.runIf(existsSync(NGINX))('passes nginx -t once its listen line and upstream addresses are filled in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-t-'));
    try {
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, wrapConfig(dir, renderServerBlock({ port: 18999, gatehouse: '127.0.0.1:8080', platform: '127.0.0.1:8081' })));
      expect(checkConfig(file)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks the decision path Gatehouse answers, and never routes it for a client', () => {
    expect(conf).toContain(`proxy_pass http://gatehouse${DECISION_PATH};`);
    expect(conf).toMatch(new RegExp(`if \\(\\$request_uri ~ "\\^${DECISION_PATH.slice(0, DECISION_PATH.indexOf('/', 1) + 1)}"\\)`));
  });

  it('captures every header the decision answers with, and forwards the URI Gatehouse judged', () => {
    for (const h of [IDENTITY, JUDGED_URI, REFUSAL_STATUS, REFUSAL_BODY, 'X-Request-Id', 'X-Gatehouse-Token-Expires', 'Retry-After', 'Deprecation', 'Sunset', 'Link']) {
      expect(conf).toContain(`$upstream_http_${h.toLowerCase().replace(/-/g, '_')};`);
    }
    expect(restLocation).toContain('proxy_pass http://platform_api$gatehouse_uri;');
    expect(restLocation).toContain(`proxy_set_header ${IDENTITY}`);
  });

  it('strips every credential header before the platform, and passes them all to the decision', () => {
    const cleared = [...restLocation.matchAll(/proxy_set_header\s+(\S+)\s+"";/g)].map((m) => m[1]!.toLowerCase());
    for (const h of CREDENTIAL_HEADERS) expect(cleared).toContain(h);
    // the decision location clears none of them (nginx passes the client's headers on)
    const decision = conf.slice(conf.indexOf('location = /_gatehouse_decision'), conf.indexOf('location @gatehouse_refused'));
    for (const h of CREDENTIAL_HEADERS) expect(decision.toLowerCase()).not.toMatch(new RegExp(`proxy_set_header\\s+${h}\\s`));
    expect(decision).toContain('proxy_pass_request_body off;');
  });
});

// Field names from envoyproxy/envoy api/envoy/...: extensions/filters/network/http_connection_manager/v3,
// config/route/v3 (RouteConfiguration, VirtualHost, Route, RouteMatch, RouteAction, DirectResponseAction),
// extensions/filters/http/ext_authz/v3 (ExtAuthz, HttpService, AuthorizationResponse, ExtAuthzPerRoute),
// config/core/v3 (HttpUri), type/matcher/v3 (ListStringMatcher, StringMatcher), config/cluster/v3.
const STRING_MATCHER: Schema = { exact: true, prefix: true, suffix: true, contains: true, safe_regex: true, ignore_case: true };
const LIST_MATCHER: Schema = { patterns: STRING_MATCHER };
const PER_FILTER: Schema = { 'envoy.filters.http.ext_authz': { '@type': true, disabled: true, check_settings: true } };
const ENVOY: Schema = {
  http_connection_manager: {
    stat_prefix: true,
    codec_type: true,
    normalize_path: true,
    merge_slashes: true,
    path_with_escaped_slashes_action: true,
    use_remote_address: true,
    xff_num_trusted_hops: true,
    route_config: {
      name: true,
      request_headers_to_remove: true,
      virtual_hosts: {
        name: true,
        domains: true,
        routes: {
          match: { prefix: true, path: true, safe_regex: true, case_sensitive: true, headers: true },
          route: { cluster: true, timeout: true, prefix_rewrite: true },
          direct_response: { status: true, body: true },
          typed_per_filter_config: PER_FILTER,
        },
      },
    },
    http_filters: {
      name: true,
      typed_config: {
        '@type': true,
        http_service: {
          server_uri: { uri: true, cluster: true, timeout: true },
          path_prefix: true,
          authorization_request: { headers_to_add: true },
          authorization_response: {
            allowed_upstream_headers: LIST_MATCHER,
            allowed_upstream_headers_to_append: LIST_MATCHER,
            allowed_client_headers: LIST_MATCHER,
            allowed_client_headers_on_success: LIST_MATCHER,
            dynamic_metadata_from_headers: LIST_MATCHER,
          },
        },
        allowed_headers: LIST_MATCHER,
        failure_mode_allow: true,
        status_on_error: { code: true },
        with_request_body: true,
        clear_route_cache: true,
        include_peer_certificate: true,
        stat_prefix: true,
      },
    },
  },
  clusters: { name: true, type: true, connect_timeout: true, load_assignment: true },
};

describe('config/envoy/ext-authz.yaml', () => {
  const [envoy] = yamlDocs('config/envoy/ext-authz.yaml');
  const hcm = envoy.http_connection_manager;
  const extAuthz = hcm.http_filters.find((f: any) => f.name === 'envoy.filters.http.ext_authz').typed_config;
  const exact = (m: any) => (m?.patterns ?? []).map((p: any) => p.exact);

  it('names only fields Envoy documents, and the ext_authz filter runs before the router', () => {
    expect(unknownFields(envoy, ENVOY)).toEqual([]);
    expect(extAuthz['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz');
    expect(hcm.http_filters.map((f: any) => f.name)).toEqual(['envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
    expect(['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD']).toContain(hcm.path_with_escaped_slashes_action);
  });

  it('asks the decision path (the original path after it), fails closed, reads the credential headers', () => {
    expect(extAuthz.http_service.path_prefix).toBe(DECISION_PATH);
    expect(extAuthz.failure_mode_allow).toBe(false);
    // Authorization is always sent by Envoy; the others only when allowed
    for (const h of CREDENTIAL_HEADERS.filter((x) => x !== 'authorization')) expect(exact(extAuthz.allowed_headers)).toContain(h);
    expect(exact(extAuthz.allowed_headers)).toContain('x-forwarded-for');
    expect(exact(extAuthz.http_service.authorization_response.allowed_upstream_headers)).toContain(IDENTITY.toLowerCase());
    expect(envoy.clusters.map((c: any) => c.name)).toContain(extAuthz.http_service.server_uri.cluster);
  });

  it('routes REST (any case) through the decision, everything else to Gatehouse without it, the decision path nowhere', () => {
    const routes = hcm.route_config.virtual_hosts[0].routes;
    const disabled = (r: any) => r.typed_per_filter_config?.['envoy.filters.http.ext_authz']?.disabled === true;
    const rest = routes.find((r: any) => r.match.prefix?.toLowerCase() === '/api/');
    expect(rest.match.case_sensitive).toBe(false);
    expect(disabled(rest)).toBe(false);
    expect(routes.filter((r: any) => r !== rest).every(disabled)).toBe(true);
    const decision = routes.find((r: any) => DECISION_PATH.startsWith(r.match.prefix ?? '\0'));
    expect(decision.direct_response.status).toBe(404);
    expect(routes.indexOf(decision)).toBeLessThan(routes.findIndex((r: any) => r.match.prefix === '/'));
    expect(lower(hcm.route_config.request_headers_to_remove)).toEqual(lower(CREDENTIAL_HEADERS));
  });
});

// Field names from Traefik's references: Middleware ForwardAuth and Headers, IngressRoute.
const TRAEFIK: Schema = {
  apiVersion: true,
  kind: true,
  metadata: { name: true, namespace: true },
  spec: {
    forwardAuth: {
      address: true,
      tls: true,
      trustForwardHeader: true,
      authResponseHeaders: true,
      authResponseHeadersRegex: true,
      authRequestHeaders: true,
      addAuthCookiesToResponse: true,
      headerField: true,
      forwardBody: true,
      maxBodySize: true,
      preserveLocationHeader: true,
    },
    headers: { customRequestHeaders: true, customResponseHeaders: true },
    entryPoints: true,
    routes: { match: true, kind: true, priority: true, middlewares: { name: true, namespace: true }, services: { name: true, port: true, namespace: true } },
  },
};

describe('config/traefik/gatehouse-forward-auth.yaml', () => {
  const docs = yamlDocs('config/traefik/gatehouse-forward-auth.yaml');
  const byName = (name: string) => docs.find((d) => d.metadata.name === name);
  const auth = docs.find((d) => d.spec.forwardAuth).spec.forwardAuth;

  it('names only fields Traefik documents, in traefik.io/v1alpha1 Middlewares and an IngressRoute', () => {
    for (const d of docs) {
      expect(unknownFields(d, TRAEFIK)).toEqual([]);
      expect(d.apiVersion).toBe('traefik.io/v1alpha1');
      expect(['Middleware', 'IngressRoute']).toContain(d.kind);
    }
  });

  it('asks the decision path, never trusts a client X-Forwarded-*, passes the identity on', () => {
    expect(new URL(auth.address).pathname).toBe(DECISION_PATH);
    expect(auth.trustForwardHeader).toBe(false);
    expect(auth.authResponseHeaders).toContain(IDENTITY);
    // no authRequestHeaders: every client header (the credentials among them) reaches the decision
    expect(auth.authRequestHeaders).toBeUndefined();
  });

  it('REST goes through the decision then loses its credentials; the other routes never expose the decision path', () => {
    const strip = docs.find((d) => d.spec.headers).spec.headers.customRequestHeaders;
    expect(lower(Object.keys(strip))).toEqual(lower(CREDENTIAL_HEADERS));
    expect(Object.values(strip).every((v) => v === '')).toBe(true);
    const routes = byName('gatehouse').spec.routes;
    const rest = routes.find((r: any) => r.match.includes('(?i)^/api/'));
    const authName = docs.find((d) => d.spec.forwardAuth).metadata.name;
    const stripName = docs.find((d) => d.spec.headers).metadata.name;
    expect(rest.middlewares.map((m: any) => m.name)).toEqual([authName, stripName]);
    for (const r of routes.filter((x: any) => x !== rest)) expect(r.match).not.toContain('_gatehouse');
  });
});
