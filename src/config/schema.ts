// config/: owns the shape of Gatehouse's configuration and its validation (zod).
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), url]);

export const UPSTREAM_NAMES = ['envelope', 'template', 'file'] as const;
export type UpstreamName = (typeof UPSTREAM_NAMES)[number];

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production']).default('development'),
    server: z.object({
      host: z.string().min(1),
      port: z.coerce.number().int().min(0).max(65535),
      /** Base URL that clients use to reach the gateway; empty = derived from the request's Host. */
      publicUrl: optionalUrl,
    }),
    store: z.object({
      /** `sqlite:<file>`, `sqlite::memory:` or a `postgres://` URL. */
      url: z
        .string()
        .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or a postgres:// URL'),
      /** How often each instance reads the change feed (bounds cross-process staleness without Redis). */
      changeFeedPollMs: z.coerce.number().int().min(50).max(60000),
    }),
    cache: z.object({
      l1MaxEntries: z.coerce.number().int().min(100),
      l1TtlMs: z.coerce.number().int().min(100),
      negativeTtlMs: z.coerce.number().int().min(0),
    }),
    /** Upstream base URLs by name; empty = the in-process sample upstream (development only). */
    upstreams: z.object({ envelope: optionalUrl, template: optionalUrl, file: optionalUrl }),
    /** First path segment after `/Api/v{N}/` → upstream name. */
    routes: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.enum(UPSTREAM_NAMES)),
    proxy: z.object({
      timeoutMs: z.coerce.number().int().min(1),
      connectTimeoutMs: z.coerce.number().int().min(1),
      maxSockets: z.coerce.number().int().min(1),
    }),
    identity: z.object({
      /** HS256 key shared with the upstreams; empty = random per process (development only). */
      secret: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]),
      ttlSeconds: z.coerce.number().int().min(5).max(3600),
      issuer: z.string().min(1),
      audience: z.string().min(1),
    }),
    /** The SOAP surface: paths (matched case-insensitively), its upstream, and the scan's bounds. */
    soap: z.object({
      paths: z.array(z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, 'must be a plain absolute path')).min(1),
      upstream: z.enum(UPSTREAM_NAMES),
      /** Bytes buffered to find the credential; the rest of a message streams through untouched. */
      preambleLimitBytes: z.coerce.number().int().min(1024).max(16 * 1024 * 1024),
      maxDepth: z.coerce.number().int().min(4).max(1000),
      maxAttributes: z.coerce.number().int().min(1).max(10000),
      maxNameLength: z.coerce.number().int().min(16).max(10000),
    }),
    orgTokens: z.object({
      /** Accept organization tokens on the SOAP API (DESIGN.md §3.4). */
      allowSoap: z.boolean(),
    }),
    log: z.object({
      level: z.enum(['error', 'warn', 'info', 'debug', 'silent']),
      access: z.coerce.boolean(),
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
