// soap/: the SOAP facts Gatehouse relies on, named once — envelope namespaces (SOAP 1.1 W3C Note
// §4, SOAP 1.2 Part 1 §5), the platform's service namespace (DESIGN.md §1; its operations come
// from the WSDL, soap/contract.ts),
// WS-Security UsernameToken Profile 1.0 names, and how the HTTP binding carries the version and
// the action (SOAP 1.1 §6.1.1 `SOAPAction`; RFC 3902 `application/soap+xml; action=`).
import type { IncomingHttpHeaders } from 'node:http';
import { ContentTypeRefused, EncodingRefused } from './errors.js';

export type SoapVersion = '1.1' | '1.2';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const ENVELOPE_NS: Record<SoapVersion, string> = { '1.1': SOAP11_NS, '1.2': SOAP12_NS };
/** The platform's service namespace (the bundled WSDL's targetNamespace); SOAPAction = TNS + operation name. */
export const TNS = 'http://www.eSignAnyWhere.com/';
export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/**
 * Gatehouse's own SOAP header carrier (`<AuthorizationHeader xmlns="<service namespace>"><apiToken>`),
 * accepted besides the platform's credential parameter; not part of the platform's WSDL.
 */
export const AUTH_HEADER = 'AuthorizationHeader';

export interface SoapRequestHead {
  version: SoapVersion;
  /** The action the HTTP layer names ('' when the client leaves it to the body). */
  action: string;
}

const unquote = (v: string) => v.trim().replace(/^"(.*)"$/, '$1').trim();

/**
 * Does the HTTP-level action name this operation? The WSDL's soapAction, or the
 * `namespace#Operation` form some toolkits send by default (SOAP::Lite: `http://www.eSignAnyWhere.com/#Op`,
 * with or without the namespace's trailing slash). Empty = the client left it to the body.
 */
export function actionNamesOperation(action: string, namespace: string, operation: string, declared: string | undefined): boolean {
  if (action === '' || action === declared || action === namespace + operation) return true;
  const hash = action.lastIndexOf('#');
  if (hash < 0 || action.slice(hash + 1) !== operation) return false;
  const ns = action.slice(0, hash);
  return ns === namespace || ns === namespace.replace(/\/$/, '');
}

/** The SOAP version a Content-Type names, for choosing the Fault's version even before refusing it. */
export function versionOfContentType(contentType: string | undefined): SoapVersion {
  return /^\s*application\/soap\+xml\b/i.test(contentType ?? '') ? '1.2' : '1.1';
}

/** Reads version and action from the HTTP headers; refuses other media types and charsets. */
export function readSoapRequestHead(headers: IncomingHttpHeaders): SoapRequestHead | ContentTypeRefused | EncodingRefused {
  const [mediaType = '', ...params] = (headers['content-type'] ?? '').split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'text/xml' && type !== 'application/soap+xml') return new ContentTypeRefused();
  let action = '';
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = p.slice(0, eq).trim().toLowerCase();
    const value = unquote(p.slice(eq + 1));
    if (name === 'charset' && value.toLowerCase() !== 'utf-8') return new EncodingRefused();
    if (name === 'action') action = value;
  }
  if (type === 'text/xml') {
    const soapAction = headers['soapaction'];
    return { version: '1.1', action: typeof soapAction === 'string' ? unquote(soapAction) : '' };
  }
  return { version: '1.2', action };
}
