// config/: owns the shape of Gatehouse's configuration and its validation (zod). Every leaf has a
// description: the operator reference in the README is generated from it (reference.ts), and a
// test fails when the two disagree.
import proxyAddr from 'proxy-addr';
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), url]);
const ms = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const isoDate = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 date, e.g. 2027-06-30T00:00:00Z');

export const UPSTREAM_NAMES = ['envelope', 'template', 'file'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

/** A boolean that may come from the environment as the text `true` or `false`. */
const envBoolean = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
/** A list of addresses or CIDR ranges; from the environment, comma-separated. */
const addressList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);
const redisUrl = z.union([z.literal(''), z.url({ protocol: /^rediss?$/ })]);
const hostPort = z.object({ host: z.string().min(1), port: z.coerce.number().int().min(1).max(65535) });

const REDIS_DEFAULTS = {
  url: '',
  mode: 'standalone' as const,
  sentinels: [],
  sentinelName: 'mymaster',
  clusterNodes: [],
  keyPrefix: 'gatehouse:',
  commandTimeoutMs: 100,
  probeIntervalMs: 1000,
  ttlMs: 300000,
  negativeTtlMs: 5000,
  tombstoneMs: 5000,
};

/**
 * Redis through ioredis: `standalone` uses `url` (redis://[user:pass@]host:port/db); `sentinel`
 * uses `sentinels` + `sentinelName` (credentials and db from `url`); `cluster` uses `clusterNodes`.
 */
const redisSchema = z.object({
  url: redisUrl.describe('Standalone: redis://[user:pass@]host:port/db; sentinel: credentials and db only. Empty = no L2 (L1 only).'),
  mode: z.enum(['standalone', 'sentinel', 'cluster']).describe('How to reach Redis through ioredis.'),
  sentinels: z.array(hostPort).describe('Sentinel mode: the sentinels, [{host, port}].'),
  sentinelName: z.string().min(1).describe('Sentinel mode: the master group name.'),
  clusterNodes: z.array(hostPort).describe('Cluster mode: seed nodes, [{host, port}].'),
  keyPrefix: z.string().max(64).describe('Prefix of every key and of the eviction channel (`<prefix>evict`), so several deployments can share one Redis.'),
  commandTimeoutMs: z.coerce.number().int().min(1).max(10000).describe('A command slower than this counts as Redis down: the request reads through to the store.'),
  probeIntervalMs: z.coerce.number().int().min(50).max(60000).describe('While Redis is down, how often it is probed to come back.'),
  ttlMs: z.coerce.number().int().min(1000).describe('Lifetime of a positive L2 entry.'),
  negativeTtlMs: z.coerce.number().int().min(0).describe('Lifetime of an "unknown token" L2 entry.'),
  tombstoneMs: z.coerce.number().int().min(100).describe('How long an invalidated key refuses to be re-cached (covers a store read racing the write).'),
});

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development').describe('Deployment mode, from NODE_ENV; production demands explicit upstreams and an identity key.'),
    server: z.object({
      host: z.string().min(1).describe('Interface to listen on.'),
      port: z.coerce.number().int().min(0).max(65535).describe('Port to listen on (0 = any free port).'),
      publicUrl: optionalUrl.describe('Base URL clients use to reach the gateway (the WSDL\'s soap:address, the OAuth issuer); empty = the URL it listens on (not in production).'),
      workers: z.coerce.number().int().min(0).max(256).default(1).describe('Gateway processes sharing the port (node:cluster); 0 = one per CPU. More than one needs `identity.secret` and `oauth.signingKeyFile`, shared by all.'),
    }),
    store: z.object({
      url: z
        .string()
        .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or a postgres:// URL')
        .describe('`sqlite:<file>`, `sqlite::memory:` or a `postgres://` URL.'),
      changeFeedPollMs: ms(50, 60000).describe("How often each instance reads the store's change feed: bounds cross-process staleness without Redis."),
    }),
    cache: z.object({
      l1MaxEntries: z.coerce.number().int().min(100).describe('Records (tokens, users, roles, organizations) held in the in-process LRU.'),
      l1TtlMs: z.coerce.number().int().min(100).describe('Lifetime of a positive L1 entry: bounds staleness if an eviction is missed.'),
      negativeTtlMs: z.coerce.number().int().min(0).describe('Lifetime of an "unknown token" entry (0 = not cached).'),
      staleMaxMs: z.coerce.number().int().min(0).default(300000).describe('Store down: cached positive records keep serving this long after they were fetched (0 = never stale).'),
    }),
    // L2: the shared Redis tier and the eviction channel (cache/l2-redis.ts).
    redis: redisSchema.default(REDIS_DEFAULTS),
    lastUsed: z
      .object({ flushIntervalMs: z.coerce.number().int().min(100).max(3600000).describe('`last_used_at`/`last_used_ip`: one store write per token per interval.') })
      .default({ flushIntervalMs: 10000 }),
    upstreams: z.object({
      envelope: optionalUrl.describe('Base URL of the envelope service; empty = the in-process sample upstream (not in production).'),
      template: optionalUrl.describe('Base URL of the template service; empty = the sample upstream.'),
      file: optionalUrl.describe('Base URL of the file service; empty = the sample upstream.'),
    }),
    routes: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.enum(UPSTREAM_NAMES))
      .describe('Overrides: first path segment after `/Api/v{N}/` (any case) → upstream name; a resource not listed goes to `rest.defaultUpstream`.'),
    // The REST surface (proxy/routes.ts): every resource of every version is forwarded; `routes` only splits upstreams.
    rest: z
      .object({ defaultUpstream: z.enum(UPSTREAM_NAMES).describe('Upstream of every `/Api/v{N}/<resource>` that `routes` does not send elsewhere.') })
      .default({ defaultUpstream: 'envelope' }),
    proxy: z.object({
      timeoutMs: z.coerce.number().int().min(1).describe('Upstream response timeout; past it the caller gets 504.'),
      maxSockets: z.coerce.number().int().min(1).describe('Keep-alive connections per upstream.'),
    }),
    identity: z.object({
      secret: z
        .union([z.literal(''), z.string().min(32, 'must be at least 32 characters')])
        .describe('HS256 key of X-Gatehouse-Identity, shared with the upstreams; empty = random per process (not in production).'),
      ttlSeconds: z.coerce.number().int().min(5).max(3600).describe('Lifetime of the identity JWT.'),
      issuer: z.string().min(1).describe('`iss` of the identity JWT.'),
      audience: z.string().min(1).describe('`aud` of the identity JWT.'),
    }),
    shutdown: z.object({
      drainDelayMs: ms(0, 120000).describe('After SIGTERM, how long /readyz answers 503 while requests are still served, so load balancers notice.'),
      timeoutMs: ms(0, 300000).describe('Then, how long in-flight requests may take before connections are cut.'),
    }),
    // Metrics on a listener of their own (observability/metrics-listener.ts), never on the API port.
    observability: z.object({
      metricsPath: z
        .union([z.literal(''), z.string().regex(/^\/[A-Za-z0-9/_-]*$/)])
        .describe('Path of the Prometheus endpoint on the metrics listener (`metricsListen`); empty turns it off.'),
      metricsListen: z
        .union([z.literal(''), z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port (an IPv6 host in brackets)')])
        .default('127.0.0.1:9464')
        .describe('Where the Prometheus endpoint listens, `host:port`: a listener of its own, never the API port; loopback by default (in a pod, `0.0.0.0:9464` for the scraper); empty = no metrics endpoint.'),
      metricsToken: z
        .union([z.literal(''), z.string().min(32, 'must be at least 32 characters')])
        .default('')
        .describe('Bearer token the scraper must send (`Authorization: Bearer <token>`) on the metrics listener; empty = none, the listen address is the only fence.'),
      organizationLabels: envBoolean
        .default(false)
        .describe('Label `gatehouse_org_token_requests_total` with organization ids (`organization_id`); off, the label is empty, so no organization id reaches a metric.'),
      otlpEndpoint: optionalUrl.describe('OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces); empty = no tracing.'),
    }),
    // The settings page and its JSON API (src/settings/).
    settings: z.object({
      sessionTtlMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).describe('Lifetime of a settings session.'),
      passwordLinkTtlMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).describe('Lifetime of a one-time set-password link.'),
      demoUser: z.boolean().describe('First start on an empty store (development only): create a demo user and print a set-password link.'),
      // A session handed over by the platform: a signed JWT in a cookie (HS256 secret or RS/ES public key).
      platformSession: z.object({
        cookie: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).describe('Name of the cookie carrying the platform session JWT.'),
        secret: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]).describe('HS256 key of the platform session JWT (or use publicKey).'),
        publicKey: z.string().describe('PEM public key (RS/ES) of the platform session JWT.'),
        issuer: z.string().describe('Expected `iss` of the platform session JWT (empty = not checked).'),
        audience: z.string().describe('Expected `aud` of the platform session JWT (empty = not checked).'),
        loginClaim: z.string().min(1).describe("The claim that carries the user's login name."),
      }),
    }),
    // The SOAP surface: paths (matched case-insensitively), its upstream, and the scan's bounds.
    soap: z.object({
      paths: z.array(z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, 'must be a plain absolute path')).min(1).describe('Paths of the SOAP endpoint (WSDL at `<path>?wsdl`).'),
      upstream: z.enum(UPSTREAM_NAMES).describe('Upstream that receives SOAP calls.'),
      preambleLimitBytes: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).describe('Bytes buffered to find the credential; the rest of a message streams through untouched.'),
      maxDepth: z.coerce.number().int().min(4).max(1000).describe('Deepest element nesting accepted in the preamble.'),
      maxAttributes: z.coerce.number().int().min(1).max(10000).describe('Most attributes accepted on one element.'),
      maxNameLength: z.coerce.number().int().min(16).max(10000).describe('Longest element or attribute name accepted.'),
      refusals: z
        .enum(['apiResult', 'fault'])
        .describe('How a refused call of a known operation is answered: `apiResult` = as the platform does (HTTP 200, the result string with baseResult failed and errorInfo); `fault` = a SOAP Fault.'),
      wsdlRefreshSeconds: z.coerce.number().int().min(0).max(86400).describe("How often the SOAP upstream's own WSDL is fetched again (0 = only at start); without one, wsdl/Api.wsdl is served."),
    }),
    log: z.object({
      level: z.enum(['error', 'warn', 'info', 'debug', 'silent']).describe('Log level.'),
      access: z.boolean().describe('One JSON access line per request.'),
    }),
    // Abuse limits (pipeline/abuse.ts): counters in Redis when configured, in-process otherwise.
    abuse: z
      .object({
        failuresPerIp: z.coerce.number().int().min(0).describe('Failed authentications from one client address within `windowSeconds` before it gets 429 (0 = off).'),
        failuresPerToken: z.coerce.number().int().min(0).describe('Failed authentications with one token hint (first 8 + last 4 characters, hashed) within `windowSeconds` before 429 (0 = off).'),
        windowSeconds: z.coerce.number().int().min(1).max(86400).describe('Window of the failed-authentication counters; a blocked client waits at most this long.'),
        tokenRequestsPerSecond: z.coerce.number().int().min(0).describe('Requests per second one authenticated token may make (0 = unlimited).'),
      })
      .default({ failuresPerIp: 100, failuresPerToken: 10, windowSeconds: 300, tokenRequestsPerSecond: 0 }),
    // HTTP hygiene of the listening server (edge/server.ts, pipeline/http-limits.ts).
    http: z
      .object({
        maxHeaderBytes: z.coerce.number().int().min(1024).max(1024 * 1024).describe('Largest request head (request line + headers) accepted; larger gets 431.'),
        maxHeaderCount: z.coerce.number().int().min(8).max(1000).describe('Most request header lines accepted; more gets 431.'),
        headersTimeoutMs: ms(1000, 600000).describe('A client must send its complete request head within this time (slowloris), else 408 and the connection is closed.'),
        requestTimeoutMs: ms(0, 3600000).describe('A client must send its whole request within this time (0 = no limit; large SOAP uploads need room).'),
        keepAliveTimeoutMs: ms(1000, 600000).describe('An idle keep-alive connection is closed after this time (keep it above the load balancer idle timeout).'),
        // Slow bodies and connection floods (edge/body-rate.ts, edge/connection-cap.ts)
        bodyIdleTimeoutMs: ms(0, 600000)
          .default(20000)
          .describe('A request body must keep coming: one that brings fewer than `bodyMinBytesPerSecond` × this / 1000 bytes (at least one) in any such stretch while the gateway is reading it gets 408 (REST error body, SOAP Fault) and its connection is closed; 0 = off (only `requestTimeoutMs` bounds it).'),
        bodyMinBytesPerSecond: z.coerce
          .number()
          .int()
          .min(0)
          .default(500)
          .describe('The slowest request body accepted, judged over `bodyIdleTimeoutMs` (0 = any rate, only a body that stops is cut).'),
        maxConnectionsPerIp: z.coerce
          .number()
          .int()
          .min(0)
          .default(256)
          .describe('Most open connections from one peer address (IPv6: one /64), counted when a connection is accepted; more are closed at once. Peers in `trustedProxies` (and the forward-auth edges) are not counted: the client behind them is not known when a connection opens. 0 = no cap.'),
        bodyLimitBytes: z
          .object({
            rest: z.coerce.number().int().min(0).describe('Largest REST request body (Content-Length) forwarded; larger gets 413 (0 = no limit).'),
            soap: z.coerce.number().int().min(0).describe('Largest SOAP request body (Content-Length); larger gets a Fault with 413 (0 = no limit).'),
          })
          .describe('Request body limits per route family (the settings API has its own, 16 KiB of JSON).'),
        trustedProxies: z
          .array(z.string().min(1))
          .describe('Addresses or CIDR ranges of proxies whose `X-Forwarded-For`/`-Proto`/`-Host` are believed (e.g. ["10.0.0.0/8"]); empty = the peer address is the client.'),
      })
      .default({
        maxHeaderBytes: 16384,
        maxHeaderCount: 100,
        headersTimeoutMs: 20000,
        requestTimeoutMs: 300000,
        keepAliveTimeoutMs: 65000,
        bodyIdleTimeoutMs: 20000,
        bodyMinBytesPerSecond: 500,
        maxConnectionsPerIp: 256,
        bodyLimitBytes: { rest: 64 * 1024 * 1024, soap: 256 * 1024 * 1024 },
        trustedProxies: [],
      }),
    // Forward-auth mode (src/forward-auth/): the decision endpoint an edge (nginx auth_request,
    // ingress-nginx auth-url, Traefik ForwardAuth, Envoy ext_authz) asks before forwarding REST calls itself.
    forwardAuth: z
      .object({
        enabled: envBoolean.describe('Answer authorization requests from the edges at `forwardAuth.path` (REST only; SOAP keeps the proxy path). Off: the path does not exist.'),
        path: z
          .string()
          .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'must be a plain absolute path, without a trailing slash')
          .describe('Path of the decision endpoint; `<path>/<original path>` (Envoy ext_authz `path_prefix`) is answered too. Reached only from `forwardAuth.edges`; from anyone else it does not exist (404).'),
        edges: addressList.describe('Addresses or CIDR ranges (proxy-addr names too: `loopback`, `uniquelocal`) of the edges allowed to ask, judged on the peer address; their X-Forwarded-For / X-Real-IP name the client. Comma-separated in the environment.'),
        edgeForwards: z
          .enum(['original', 'judged'])
          .describe('What the edge forwards upstream once allowed: `original` = the URI as the client sent it (Traefik, Envoy, ingress-nginx), so a path whose normalized form differs is refused (400 PathRefused); `judged` = the URI Gatehouse answers in `X-Gatehouse-Uri` (the shipped nginx config), so paths are normalized exactly as in proxy mode.'),
      })
      .default({ enabled: false, path: '/_gatehouse/auth', edges: [], edgeForwards: 'original' }),
    // Organization API tokens (deprecated): what their callers are told, and whether SOAP takes them.
    orgTokens: z
      .object({
        deprecatedSince: isoDate.describe('When organization tokens were deprecated: the `Deprecation` header (RFC 9745).'),
        sunset: isoDate.describe('When they stop working: the `Sunset` header (RFC 8594).'),
        migrationDocsUrl: url.describe('Migration documentation: `Link: <url>; rel="deprecation"`.'),
        allowSoap: z.boolean().describe('Accept organization tokens on the SOAP API (legacy migrations only).'),
      })
      .refine((o) => Date.parse(o.sunset) > Date.parse(o.deprecatedSince), { path: ['sunset'], message: 'must be after deprecatedSince' }),
    // The OAuth2 authorization server (src/oauth/): access-token signing keys and lifetimes.
    oauth: z
      .object({
        issuer: optionalUrl.describe('`iss` of access tokens and the RFC 8414 issuer; empty = server.publicUrl, else the URL the gateway listens on.'),
        audience: z.string().min(1).describe('`aud` of access tokens; a token of another audience is refused at the edge.'),
        accessTokenTtlSeconds: z.coerce.number().int().min(60).max(3600).describe('Lifetime of an access token (RFC 9068 JWT).'),
        refreshTokenTtlDays: z.coerce.number().int().min(1).max(365).describe('Lifetime of a refresh token (each is rotated on use).'),
        signingKeyFile: z.string().describe('PEM private key (EC P-256 or RSA) that signs access tokens; empty = generated per process (not in production).'),
        retiredKeyFiles: z.array(z.string().min(1)).describe('PEM public keys of rotated-out signing keys: still published and verifying until their tokens expire.'),
      })
      .default({ issuer: '', audience: 'gatehouse-api', accessTokenTtlSeconds: 600, refreshTokenTtlDays: 30, signingKeyFile: '', retiredKeyFiles: [] }),
    // Leaked-token reports (src/security/): who may report tokens found in public code.
    security: z.object({
      leakedTokens: z.object({
        signingSecret: z
          .union([z.literal(''), z.string().min(32, 'must be at least 32 characters')])
          .describe('HMAC-SHA256 key shared with the secret scanner; reports to POST /security/leaked-tokens are signed with it (X-Gatehouse-Signature: sha256=<hex>). Empty turns the endpoint off.'),
        maxTokensPerReport: z.coerce.number().int().min(1).max(10000).describe('Most token strings accepted in one report.'),
      }),
    }),
  })
  .superRefine((cfg, ctx) => {
    const r = cfg.redis;
    if (r.mode === 'sentinel' && r.sentinels.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'sentinels'], message: 'needs at least one host:port in sentinel mode' });
    }
    if (r.mode === 'cluster' && r.clusterNodes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redis', 'clusterNodes'], message: 'needs at least one host:port in cluster mode' });
    }
    const fa = cfg.forwardAuth;
    if (fa.enabled && fa.edges.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['forwardAuth', 'edges'], message: 'needs at least one edge address when forwardAuth is enabled (FORWARD_AUTH_EDGES)' });
    }
    try {
      proxyAddr.compile([...fa.edges]);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['forwardAuth', 'edges'], message: (e as Error).message });
    }
    const taken = [...cfg.soap.paths, cfg.observability.metricsPath, '/healthz', '/readyz'].filter(Boolean).map((p) => p.toLowerCase());
    const lower = fa.path.toLowerCase();
    if (lower === '/api' || lower.startsWith('/api/') || taken.some((p) => p === lower || p.startsWith(`${lower}/`)) || /^\/(settings|oauth|security|\.well-known)(\/|$)/.test(lower)) {
      ctx.addIssue({ code: 'custom', path: ['forwardAuth', 'path'], message: 'must not be or contain a path Gatehouse already serves' });
    }
    // Every worker must sign identities and verify access tokens with the same keys
    if (cfg.server.workers !== 1) {
      if (!cfg.identity.secret) ctx.addIssue({ code: 'custom', path: ['identity', 'secret'], message: 'is required with more than one worker (IDENTITY_SECRET)' });
      if (!cfg.oauth.signingKeyFile) ctx.addIssue({ code: 'custom', path: ['oauth', 'signingKeyFile'], message: 'is required with more than one worker' });
    }
    if (cfg.env !== 'production') return;
    if (!cfg.identity.secret) {
      ctx.addIssue({ code: 'custom', path: ['identity', 'secret'], message: 'is required in production (IDENTITY_SECRET)' });
    }
    // Clients generated from the WSDL call the address it names
    if (!cfg.server.publicUrl) ctx.addIssue({ code: 'custom', path: ['server', 'publicUrl'], message: 'is required in production (PUBLIC_URL)' });
    for (const name of UPSTREAM_NAMES) {
      if (!cfg.upstreams[name]) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', name], message: 'is required in production' });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
