// web/page: the settings JSON API as the page uses it. Same-origin fetches; the CSRF token from
// /me goes on every request that changes something.
// The bodies' types, both ways, are the server's own (settings/wire.ts, inferred from the zod
// schemas the server validates with): a field renamed there fails to compile here.
import type * as Wire from '../../settings/wire.js';
import type { App, Me, OrgToken, OrgTokens, Token } from '../../settings/wire.js';
export type { App, Me, OrgToken, OrgTokens, Restrictions, RollToken, Token } from '../../settings/wire.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = '/settings/api';
let csrfToken = '';
let onSessionEnded: (() => void) | undefined;

/** Called when a request finds the session gone (expired, signed out elsewhere). */
export function whenSessionEnds(fn: () => void): void {
  onSessionEnded = fn;
}

async function call<T>(method: string, path: string, body?: object): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(BASE + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status === 401 && (data.ErrorId === 'SessionExpired' || data.ErrorId === 'SessionRequired') && path !== '/me') onSessionEnded?.();
  if (!res.ok) throw new ApiError(res.status, String(data.ErrorId ?? 'Error'), String(data.Message ?? `Request failed (${res.status}).`));
  return data as T;
}

function remember(me: Me): Me {
  csrfToken = me.csrfToken;
  return me;
}

/** A request body, checked against its wire type where it is written. */
const send = <B extends object>(body: B): B => body;

export const api = {
  me: () => call<Me>('GET', '/me').then(remember),
  signIn: (login: string, password: string) => call<Me>('POST', '/session', send<Wire.SignIn>({ login, password })).then(remember),
  setPassword: (token: string, password: string) => call<Me>('POST', '/password', send<Wire.SetPassword>({ token, password })).then(remember),
  signOut: () => call<void>('DELETE', '/session'),
  tokens: () => call<Token[]>('GET', '/tokens'),
  createToken: (name: string, expiresAt: string | null, restrictions: Wire.Restrictions | null) =>
    call<Wire.CreatedToken>('POST', '/tokens', send<Wire.CreateToken>(restrictions ? { name, expiresAt, restrictions } : { name, expiresAt })),
  /** Replaces what a token is restricted to; {} lifts every restriction. */
  restrictToken: (id: string, restrictions: Wire.Restrictions) => call<Token>('PUT', `/tokens/${encodeURIComponent(id)}/restrictions`, send<Wire.Restrictions>(restrictions)),
  updateToken: (id: string, patch: Wire.UpdateToken) => call<Token>('PATCH', `/tokens/${encodeURIComponent(id)}`, patch),
  rollToken: (id: string, oldExpires: Wire.RollToken['oldExpires']) => call<Wire.RolledToken>('POST', `/tokens/${encodeURIComponent(id)}/roll`, send<Wire.RollToken>({ oldExpires })),
  deleteToken: (id: string) => call<void>('DELETE', `/tokens/${encodeURIComponent(id)}`),
  orgTokens: () => call<OrgTokens>('GET', '/org-tokens'),
  createOrgToken: (name: string) => call<Wire.CreatedOrgToken>('POST', '/org-tokens', send<Wire.CreateOrgToken>({ name })),
  updateOrgToken: (id: string, enabled: boolean) => call<OrgToken>('PATCH', `/org-tokens/${encodeURIComponent(id)}`, send<Wire.UpdateOrgToken>({ enabled })),
  deleteOrgToken: (id: string) => call<void>('DELETE', `/org-tokens/${encodeURIComponent(id)}`),
  apps: () => call<App[]>('GET', '/apps'),
  revokeApp: (id: string) => call<void>('DELETE', `/apps/${encodeURIComponent(id)}`),
};
