// oauth/: owns the OAuth2 authorization server (clients, authorize + consent, token, revoke,
// introspect, metadata, JWKS, signing keys) and the access-token verifier the edge uses.
// `createOAuth` is the one way in; app.ts mounts its routes and hands its verifier to the
// authenticated-call step both surfaces share (pipeline/authenticate-call.ts).
import type { Router } from 'express';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { sessionStoreFor, type SignInBrake } from '../settings/index.js';
import type { Store } from '../store/index.js';
import type { AccessTokenVerifier } from '../tokens/access-token-format.js';
import { verifyAccessToken, type AccessTokenSettings } from './access-token.js';
import { loadSigningKeys, type SigningKeys } from './keys.js';
import { OAuthStore } from '../store/oauth-store.js';
import { oauthRoutes } from './routes.js';

/** A grant's "last used" is written at most this often per instance (Apps and Connections). */
const GRANT_USE_WRITE_MS = 60_000;
/** Expired codes and refresh tokens are kept this long past their expiry (a replay is recognised until then), */
const KEEP_EXPIRED_MS = 86_400_000;
/** and looked for this often by every instance (an idempotent DELETE: a fleet needs no coordination). */
const PURGE_EVERY_MS = 3_600_000;

export interface OAuth {
  keys: SigningKeys;
  tokens: AccessTokenSettings;
  verify: AccessTokenVerifier;
  routes(): Router;
  /** Called once the server listens: the issuer when neither oauth.issuer nor server.publicUrl is set. */
  setListenUrl(url: string): void;
  recordGrantUse(grantId: string): void;
  /** Deletes codes and refresh tokens expired for longer than a day (also run every hour). */
  purgeExpired(): Promise<{ codes: number; refreshTokens: number }>;
  /** Stops the hourly purge. */
  close(): void;
}

/** `signInBrake`: the settings API's guessing brake — the consent sign-in spends the same budgets. */
export function createOAuth(deps: { config: Config; store: Store; logger: Logger; signInBrake: SignInBrake }): OAuth {
  const { config, store, logger } = deps;
  const keys = loadSigningKeys(config.oauth, config.env === 'production');
  let listenUrl = '';
  const configured = (config.oauth.issuer || config.server.publicUrl).replace(/\/+$/, '');
  const tokens: AccessTokenSettings = { issuer: () => configured || listenUrl, audience: config.oauth.audience, ttlSeconds: config.oauth.accessTokenTtlSeconds };
  const oauthStore = new OAuthStore(store.db);
  const lastWrite = new Map<string, number>();
  const purgeExpired = () => oauthStore.purgeExpired(new Date(Date.now() - KEEP_EXPIRED_MS).toISOString());
  const purging = setInterval(() => {
    purgeExpired().catch((e: Error) => logger.warn('expired oauth codes and refresh tokens not purged; retried next hour', { error: e.message }));
  }, PURGE_EVERY_MS);
  purging.unref();
  return {
    keys,
    tokens,
    verify: (token) => verifyAccessToken(keys, tokens, token),
    routes: () =>
      oauthRoutes({
        store,
        sessions: sessionStoreFor(store, config.settings),
        session: { secure: config.env !== 'development' },
        signInBrake: deps.signInBrake,
        keys,
        tokens,
        refreshTtlMs: config.oauth.refreshTokenTtlDays * 86_400_000,
        logger,
      }),
    setListenUrl(url) {
      listenUrl = url.replace(/\/+$/, '');
    },
    recordGrantUse(grantId) {
      const now = Date.now();
      if (now - (lastWrite.get(grantId) ?? 0) < GRANT_USE_WRITE_MS) return;
      if (lastWrite.size > 10_000) lastWrite.clear();
      lastWrite.set(grantId, now);
      oauthStore.touchGrant(grantId).catch((e: Error) => logger.warn('oauth grant last-used not written', { error: e.message }));
    },
    purgeExpired,
    close: () => clearInterval(purging),
  };
}
