// settings/: owns the "API Tokens and Apps" back end — sessions (local password or platform JWT),
// CSRF, the JSON API under /settings/api/ and its OpenAPI document. `settingsRoutes` is the one way in.
import type { Router } from 'express';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/index.js';
import { settingsApi } from './api.js';
import type { SignInBrake } from './attempts.js';
import { platformSessionVerifier } from './platform-session.js';
import { SessionStore } from './session-store.js';

export function sessionStoreFor(store: Store, cfg: Config['settings']): SessionStore {
  return new SessionStore(store.db, { sessionMs: cfg.sessionTtlMinutes * 60_000, linkMs: cfg.passwordLinkTtlMinutes * 60_000 });
}

export { createSignInBrake, type SignInBrake } from './attempts.js';

/** `brake`: the one guessing brake of this gateway, which the OAuth consent sign-in is given too. */
export function settingsRoutes(deps: { config: Config; store: Store; logger: Logger; brake: SignInBrake }): Router {
  const { config } = deps;
  const verify = platformSessionVerifier(config.settings.platformSession);
  return settingsApi({
    store: deps.store,
    sessions: sessionStoreFor(deps.store, config.settings),
    logger: deps.logger,
    secureCookies: config.env !== 'development',
    brake: deps.brake,
    platform: verify && { cookie: config.settings.platformSession.cookie, verify },
  });
}
