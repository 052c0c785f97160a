// soap/: the error code and message a SOAP client gets for each refusal, in one table. The
// platform's own codes where its public error-code list has one for the case:
//   ERR0002 EmptyParameter    — the operation's credential parameter is empty (no credential at all)
//   ERR0010 NotAllowedForUser — valid credentials, but the user may not use the API
// Gatehouse's stable codes (GatehouseError.code: CredentialUnknown, CredentialDisabled, ...)
// otherwise; the platform documents none for unknown, disabled or expired tokens.
import type { GatehouseError } from '../outcomes/errors.js';
import type { CredentialParameter } from './contract.js';

export const PLATFORM_ERROR_CODES: Readonly<Record<string, string>> = {
  CredentialMissing: 'ERR0002',
  PermissionDenied: 'ERR0010',
};

/** The code in `<errorInfo><error>`. */
export function soapErrorCode(err: GatehouseError): string {
  return PLATFORM_ERROR_CODES[err.code] ?? err.code;
}

/** Where the REST wording names HTTP headers, a SOAP client needs its own carriers named. */
export function soapMessageOf(err: GatehouseError, credentialParameter: CredentialParameter = 'authorizationXml'): string {
  if (err.code !== 'CredentialMissing') return err.message;
  return credentialParameter === 'userToken'
    ? 'Parameter userToken is empty: send your API token in userToken.'
    : 'Parameter authorizationXml is empty: send <authorization><apiToken>your API token</apiToken></authorization> in authorizationXml, ' +
        'or the token in a WS-Security UsernameToken (PasswordText) or the AuthorizationHeader SOAP header.';
}
