// The simplest authenticated SOAP 1.1 call, for suites that send SOAP by hand (raw bytes, chunks,
// floods) rather than through the `soap` client.
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';

/** The headers of a GetEnvelopeById_v1 call over SOAP 1.1. */
export const GET_ENVELOPE_HEADERS = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}GetEnvelopeById_v1"` };

/** GetEnvelopeById_v1 with `token` in the AuthorizationHeader element. */
export function getEnvelopeByIdCall(token: string, envelopeId = '1'): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header>` +
    `<AuthorizationHeader xmlns="${TNS}"><apiToken>${token}</apiToken></AuthorizationHeader></soap:Header>` +
    `<soap:Body><GetEnvelopeById_v1 xmlns="${TNS}"><envelopeId>${envelopeId}</envelopeId></GetEnvelopeById_v1></soap:Body></soap:Envelope>`
  );
}
