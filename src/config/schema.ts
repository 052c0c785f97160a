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
    /** The settings page and its JSON API (src/settings/). */
    settings: z.object({
      sessionTtlMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60),
      passwordLinkTtlMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60),
      /** First start on an empty store (development only): create a demo user and print a set-password link. */
      demoUser: z.coerce.boolean(),
      /** A session handed over by the platform: a signed JWT in a cookie (HS256 secret or RS/ES public key). */
      platformSession: z.object({
        cookie: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
        secret: z.union([z.literal(''), z.string().min(32, 'must be at least 32 characters')]),
        publicKey: z.string(),
        issuer: z.string(),
        audience: z.string(),
        /** The claim that carries the user's login name. */
        loginClaim: z.string().min(1),
      }),
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
