// policy/: when a caller is told that its token expires soon — `X-Gatehouse-Token-Expires` with an
// HTTP-date (RFC 9110 §5.6.7) on every response to a call whose token expires within 7 days, so an
// integration can warn before it breaks (GitHub's `github-authentication-token-expiration`). Pure.
export const TOKEN_EXPIRES_HEADER = 'X-Gatehouse-Token-Expires';
export const EXPIRY_WARNING_MS = 7 * 86_400_000;

/** The header value, or undefined when the token does not expire within the warning window. */
export function tokenExpiresHeader(expiresAt: string | null | undefined, now: number): string | undefined {
  if (!expiresAt) return undefined;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at) || at - now > EXPIRY_WARNING_MS) return undefined;
  return new Date(at).toUTCString();
}

/** Whether the settings page marks the token as expiring soon. */
export const expiresSoon = (expiresAt: string | null | undefined, now: number): boolean => tokenExpiresHeader(expiresAt, now) !== undefined;
