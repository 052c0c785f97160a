// oauth/: errors in the RFC 6749 §5.2 form ({"error","error_description"}), never a stack.
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidClient = (d = 'Client authentication failed.') => new OAuthError('invalid_client', d, 401);
export const unsupportedGrantType = () => new OAuthError('unsupported_grant_type', 'Only authorization_code and refresh_token are supported.');
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
