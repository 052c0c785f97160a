// soap/: the refusals only the SOAP surface has (media type, encoding, hostile or malformed XML,
// action mismatch, a WS-Security digest, organization tokens on SOAP). Same shape as outcomes/errors.ts: a stable
// `code`, an HTTP status class (4xx = the sender's fault), a public message without secrets.
import { GatehouseError } from '../outcomes/errors.js';

abstract class SenderError extends GatehouseError {
  readonly status: number = 400;
}

export class ContentTypeRefused extends SenderError {
  readonly code = 'ContentTypeRefused';
  override readonly status = 415;
  constructor() {
    super('A SOAP message must be sent as text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2).');
  }
}
export class EncodingRefused extends SenderError {
  readonly code = 'EncodingRefused';
  override readonly status = 415;
  constructor() {
    super('A SOAP message must be encoded in UTF-8.');
  }
}
export class XmlMalformed extends SenderError {
  readonly code = 'XmlMalformed';
  constructor(detail = 'The message is not well-formed XML.') {
    super(detail);
  }
}
export class XmlDoctypeRefused extends SenderError {
  readonly code = 'XmlDoctypeRefused';
  constructor() {
    super('Document type declarations (DOCTYPE) are not allowed in a SOAP message.');
  }
}
export class XmlLimitExceeded extends SenderError {
  readonly code = 'XmlLimitExceeded';
  override readonly status = 413;
  constructor(what: string) {
    super(`The message exceeds a limit: ${what}.`);
  }
}
export class NotSoapEnvelope extends SenderError {
  readonly code = 'NotSoapEnvelope';
  constructor(detail = 'The message is not a SOAP envelope of the version its Content-Type names.') {
    super(detail);
  }
}
export class OperationUnknown extends SenderError {
  readonly code = 'OperationUnknown';
  override readonly status = 404;
  constructor() {
    super('The SOAP body names no operation of this service.');
  }
}
export class SoapActionMismatch extends SenderError {
  readonly code = 'SoapActionMismatch';
  constructor() {
    super('The SOAP action does not match the operation in the SOAP body.');
  }
}
export class PasswordDigestUnsupported extends GatehouseError {
  readonly code = 'PasswordDigestUnsupported';
  readonly status = 401;
  constructor() {
    super('A WS-Security PasswordDigest cannot be checked against a stored token hash: send the API token as PasswordText (over TLS).');
  }
}
export class OrgTokenNotAllowed extends GatehouseError {
  readonly code = 'OrgTokenNotAllowed';
  readonly status = 403;
  constructor() {
    super('Organization API tokens are not accepted on the SOAP API; use a user API token.');
  }
}
export class MethodNotAllowed extends SenderError {
  readonly code = 'MethodNotAllowed';
  override readonly status = 405;
  constructor() {
    super('Use POST for SOAP calls, or GET ?wsdl for the service description.');
  }
  override headers() {
    return { Allow: 'GET, HEAD, POST' };
  }
}
