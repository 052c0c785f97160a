// config/: owns the shape of Gatehouse's configuration and its validation (zod).
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), url]);
const isoDate = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 date, e.g. 2027-06-30T00:00:00Z');

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
    log: z.object({
      level: z.enum(['error', 'warn', 'info', 'debug', 'silent']),
      access: z.coerce.boolean(),
    }),
    /** Organization API tokens (deprecated): what their callers are told, and whether SOAP takes them. */
    orgTokens: z
      .object({
        /** When they were deprecated: the `Deprecation` header (RFC 9745). */
        deprecatedSince: isoDate,
        /** When they stop working: the `Sunset` header (RFC 8594). */
        sunset: isoDate,
        /** Migration documentation: `Link: <url>; rel="deprecation"`. */
        migrationDocsUrl: url,
        /** SOAP refuses organization tokens unless this is on (legacy migrations only). */
        allowSoap: z.boolean(),
      })
      .refine((o) => Date.parse(o.sunset) > Date.parse(o.deprecatedSince), { path: ['sunset'], message: 'must be after deprecatedSince' }),
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
