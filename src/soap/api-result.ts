// soap/: a refusal in the platform's own failure form. The platform's SOAP operations never
// answer with a Fault: each returns HTTP 200 and its `<Op>Response/<Op>Result` string holding
// `<apiResult><baseResult>failed</baseResult><errorInfo><error/><errorMsg/><supportId/></errorInfo></apiResult>`,
// and its clients (.NET web references among them) check baseResult. The errorMsg starts with the
// code, as the platform's do ("ERR0002: Parameter ... is empty"); supportId is the request id of
// the access-log line. Retry-After (and Allow) still travel as HTTP headers.
import type { ServerResponse } from 'node:http';
import type { GatehouseError } from '../outcomes/errors.js';
import type { OperationContract } from './contract.js';
import { soapErrorCode, soapMessageOf } from './error-codes.js';
import { writeSoapRefusal } from './faults.js';
import { ENVELOPE_NS, type SoapVersion } from './protocol.js';
import { escapeXml } from './xml-text.js';

/** The apiResult document (unescaped), as the result string holds it. */
export function failedApiResult(err: GatehouseError, operation: OperationContract, supportId: string): string {
  const code = soapErrorCode(err);
  return (
    `<apiResult><baseResult>failed</baseResult><errorInfo><error>${escapeXml(code)}</error>` +
    `<errorMsg>${escapeXml(`${code}: ${soapMessageOf(err, operation.credentialParameter)}`)}</errorMsg>` +
    `<supportId>${escapeXml(supportId)}</supportId></errorInfo></apiResult>`
  );
}

export function apiResultResponseXml(version: SoapVersion, namespace: string, operation: OperationContract, apiResult: string): string {
  const prefix = version === '1.1' ? 'soap' : 'env';
  return (
    `<?xml version="1.0" encoding="utf-8"?><${prefix}:Envelope xmlns:${prefix}="${ENVELOPE_NS[version]}"><${prefix}:Body>` +
    `<${operation.responseElement} xmlns="${escapeXml(namespace)}"><${operation.resultElement}>${escapeXml(apiResult)}</${operation.resultElement}></${operation.responseElement}>` +
    `</${prefix}:Body></${prefix}:Envelope>`
  );
}

/** Answers the refusal as the operation's failed result; `closeConnection` when the body was not read to its end. */
export function sendApiResultRefusal(
  res: ServerResponse,
  version: SoapVersion,
  namespace: string,
  operation: OperationContract,
  err: GatehouseError,
  requestId: string,
  closeConnection = false,
): void {
  const body = apiResultResponseXml(version, namespace, operation, failedApiResult(err, operation, requestId));
  writeSoapRefusal(res, version, 200, body, err, requestId, closeConnection);
}
