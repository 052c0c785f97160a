// soap/: the one place a GatehouseError becomes a SOAP Fault (as rest-response.ts is for REST).
// The platform answers its operations' failures in the result string (api-result.ts), not with
// Faults: a Fault is for a message that is no call of a known operation at all (not XML, wrong
// envelope, DOCTYPE, limits, unknown operation, action mismatch), for an upstream that did not
// answer, and for every refusal when the operator chose `soap.refusals: "fault"`.
// SOAP 1.1 (W3C Note §4.4): faultcode soap:Client / soap:Server, always HTTP 500 (§6.2).
// SOAP 1.2 (Part 1 §5.4, Part 2 §7.5.1.2): env:Sender → HTTP 400, env:Receiver → HTTP 500.
// The detail carries the platform's errorInfo (error = the stable code, errorMsg, supportId).
// The message never contains a credential; the error classes guarantee that.
import type { ServerResponse } from 'node:http';
import type { GatehouseError } from '../outcomes/errors.js';
import { soapErrorCode, soapMessageOf } from './error-codes.js';
import { SOAP11_NS, SOAP12_NS, TNS, type SoapVersion } from './protocol.js';
import { escapeXml } from './xml-text.js';

export const CONTENT_TYPE: Record<SoapVersion, string> = {
  '1.1': 'text/xml; charset=utf-8',
  '1.2': 'application/soap+xml; charset=utf-8',
};

export function faultXml(version: SoapVersion, err: GatehouseError, requestId: string): string {
  const sender = err.status < 500;
  const reason = escapeXml(soapMessageOf(err));
  const detail =
    `<errorInfo xmlns="${TNS}"><error>${escapeXml(soapErrorCode(err))}</error><errorMsg>${reason}</errorMsg>` +
    `<supportId>${escapeXml(requestId)}</supportId></errorInfo>`;
  if (version === '1.1') {
    return (
      `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><soap:Fault>` +
      `<faultcode>soap:${sender ? 'Client' : 'Server'}</faultcode><faultstring>${reason}</faultstring>` +
      `<detail>${detail}</detail></soap:Fault></soap:Body></soap:Envelope>`
    );
  }
  return (
    `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="${SOAP12_NS}"><env:Body><env:Fault>` +
    `<env:Code><env:Value>env:${sender ? 'Sender' : 'Receiver'}</env:Value></env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${reason}</env:Text></env:Reason>` +
    `<env:Detail>${detail}</env:Detail></env:Fault></env:Body></env:Envelope>`
  );
}

export function faultStatus(version: SoapVersion, err: GatehouseError): number {
  // Rate limits are an HTTP-level answer (RFC 6585 §4) that clients and balancers act on
  if (err.status === 429) return 429;
  if (version === '1.1') return 500;
  return err.status < 500 ? 400 : 500;
}

/**
 * Writes a refusal's SOAP answer (a Fault, or the platform's failed result): the error's own
 * headers but WWW-Authenticate (it names HTTP carriers a SOAP client cannot use; Retry-After and
 * Allow still help); `closeConnection` when the request body was not read to its end.
 */
export function writeSoapRefusal(res: ServerResponse, version: SoapVersion, status: number, body: string, err: GatehouseError, requestId: string, closeConnection: boolean): void {
  if (res.headersSent) {
    // Too late for a clean answer: cut the connection so the client sees a failure, not a truncated success.
    res.destroy();
    return;
  }
  const { 'WWW-Authenticate': _ignored, ...headers } = err.headers();
  res.writeHead(status, {
    ...headers,
    'Content-Type': CONTENT_TYPE[version],
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    ...(closeConnection ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

/** Answers the Fault; `closeConnection` when the request body was not read to its end. */
export function sendSoapFault(res: ServerResponse, version: SoapVersion, err: GatehouseError, requestId: string, closeConnection = false): void {
  writeSoapRefusal(res, version, faultStatus(version, err), faultXml(version, err, requestId), err, requestId, closeConnection);
}
