// config/: owns the shape of Gatehouse's configuration and its validation (zod). Every leaf has a
// description: the operator reference in the README is generated from it (reference.ts), and a
// test fails when the two disagree.
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), url]);
const ms = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const UPSTREAM_NAMES = ['envelope', 'template', 'file'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development').describe('Deployment mode, from NODE_ENV; production demands explicit upstreams and an identity key.'),
    server: z.object({
      host: z.string().min(1).describe('Interface to listen on.'),
      port: z.coerce.number().int().min(0).max(65535).describe('Port to listen on (0 = any free port).'),
      publicUrl: optionalUrl.describe("Base URL clients use to reach the gateway; empty = derived from the request's Host."),
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
    }),
    upstreams: z.object({
      envelope: optionalUrl.describe('Base URL of the envelope service; empty = the in-process sample upstream (not in production).'),
      template: optionalUrl.describe('Base URL of the template service; empty = the sample upstream.'),
      file: optionalUrl.describe('Base URL of the file service; empty = the sample upstream.'),
    }),
    routes: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.enum(UPSTREAM_NAMES))
      .describe('First path segment after `/Api/v{N}/` → upstream name.'),
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
    observability: z.object({
      metricsPath: z
        .union([z.literal(''), z.string().regex(/^\/[A-Za-z0-9/_-]*$/)])
        .describe('Path of the Prometheus endpoint; empty turns it off.'),
      otlpEndpoint: optionalUrl.describe('OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces); empty = no tracing.'),
    }),
    log: z.object({
      level: z.enum(['error', 'warn', 'info', 'debug', 'silent']).describe('Log level.'),
      access: z.boolean().describe('One JSON access line per request.'),
    }),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.env !== 'production') return;
    if (!cfg.identity.secret) {
      ctx.addIssue({ code: 'custom', path: ['identity', 'secret'], message: 'is required in production (IDENTITY_SECRET)' });
    }
    for (const name of UPSTREAM_NAMES) {
      if (!cfg.upstreams[name]) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', name], message: 'is required in production' });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
