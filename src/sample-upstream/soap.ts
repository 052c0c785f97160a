// sample-upstream/: the SOAP side of the sample service (POST /api.asmx). It answers every
// operation of the platform's contract (wsdl/Api.wsdl) in the platform's form: `<Op>Response/<Op>Result`
// holding an escaped `<apiResult><baseResult>ok</baseResult><okInfo>..</okInfo></apiResult>`, and
// fails in the same form (`baseResult` failed + errorInfo). Like the REST side it trusts nothing but
// a valid X-Gatehouse-Identity, and it reports what it received (bytes, SHA-256, header element
// names, parameter names, the credential parameter's length) so tests can see what the gateway
// forwarded. It publishes no WSDL of its own, so the gateway serves the bundled one.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { verifyIdentity, IDENTITY_HEADER, type IdentityClaims } from '../proxy/identity.js';
import { bundledWsdl } from '../soap/wsdl.js';
import { SOAP11_NS, SOAP12_NS, TNS } from '../soap/protocol.js';
import { escapeXml } from '../soap/xml-text.js';
import { SAMPLE_VERSION } from './server.js';

/** Only the start of a message is parsed: the operation and its small parameters live there. */
const PARSE_BYTES = 64 * 1024;
const MAX_PARAM = 4096;

interface Received {
  bytes: number;
  sha256: string;
  envelopeNs: string;
  operation: string;
  headerElements: string[];
  /** Parameter names in the order received, and their text (the first 4 KiB). */
  params: Record<string, string>;
  parseError?: string;
}

function readMessage(req: IncomingMessage): Promise<Received> {
  const parser = new SaxesParser({ xmlns: true });
  const hash = createHash('sha256');
  const out: Received = { bytes: 0, sha256: '', envelopeNs: '', operation: '', headerElements: [], params: {} };
  const stack: string[] = [];
  let param: string | undefined;
  parser.on('doctype', () => {
    throw new Error('DOCTYPE refused');
  });
  parser.on('opentag', (t) => {
    const tag = t as SaxesTagNS;
    stack.push(tag.local);
    if (stack.length === 1) out.envelopeNs = tag.uri;
    if (stack.length === 3 && stack[1] === 'Header') out.headerElements.push(tag.local);
    if (stack.length === 3 && stack[1] === 'Body' && !out.operation) out.operation = tag.local;
    if (stack.length === 4 && stack[1] === 'Body') {
      param = tag.local;
      out.params[param] = '';
    }
  });
  const onText = (text: string) => {
    if (param !== undefined && out.params[param]!.length < MAX_PARAM) out.params[param] += text.slice(0, MAX_PARAM);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (stack.length === 4) param = undefined;
    stack.pop();
  });
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      const before = out.bytes;
      out.bytes += chunk.length;
      if (before >= PARSE_BYTES || out.parseError) return;
      try {
        parser.write(chunk.subarray(0, PARSE_BYTES - before).toString('utf8'));
      } catch (e) {
        out.parseError = (e as Error).message;
      }
    });
    req.on('end', () => resolve({ ...out, sha256: hash.digest('hex') }));
    req.on('error', reject);
  });
}

function envelope(version: '1.1' | '1.2', body: string): string {
  const ns = version === '1.1' ? SOAP11_NS : SOAP12_NS;
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

function send(res: ServerResponse, version: '1.1' | '1.2', status: number, body: string) {
  const text = envelope(version, body);
  res.writeHead(status, {
    'Content-Type': version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function fault(res: ServerResponse, version: '1.1' | '1.2', error: string, message: string) {
  const detail = `<errorInfo xmlns="${TNS}"><error>${error}</error><errorMsg>${escapeXml(message)}</errorMsg></errorInfo>`;
  const body =
    version === '1.1'
      ? `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>${escapeXml(message)}</faultstring><detail>${detail}</detail></soap:Fault>`
      : `<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">${escapeXml(message)}</soap:Text></soap:Reason><soap:Detail>${detail}</soap:Detail></soap:Fault>`;
  send(res, version, version === '1.1' ? 500 : 400, body);
}

const tag = (name: string, value: string | number) => `<${name}>${escapeXml(String(value))}</${name}>`;

function okInfo(fields: string): string {
  return `<apiResult><baseResult>ok</baseResult><okInfo>${fields}</okInfo></apiResult>`;
}

function failed(error: string, message: string): string {
  return `<apiResult><baseResult>failed</baseResult><errorInfo>${tag('error', error)}${tag('errorMsg', `${error}: ${message}`)}</errorInfo></apiResult>`;
}

export function sampleSoapHandler(opts: { identitySecret: string; issuer: string; audience: string }) {
  const { contract } = bundledWsdl();
  return async (req: IncomingMessage, res: ServerResponse) => {
    const version = /application\/soap\+xml/i.test(req.headers['content-type'] ?? '') ? '1.2' : '1.1';
    const msg = await readMessage(req);
    if (msg.parseError || !msg.operation) return fault(res, version, 'InvalidMessage', 'The message is not a SOAP request.');
    const operation = contract.operations.get(msg.operation);
    if (!operation) return fault(res, version, 'InvalidMessage', `No operation ${msg.operation}.`);
    const op = operation.name;
    const result = (apiResult: string) => send(res, version, 200, `<${op}Response xmlns="${TNS}">${tag(`${op}Result`, apiResult)}</${op}Response>`);
    if (!operation.credentialParameter) return result(okInfo(tag('version', SAMPLE_VERSION)));

    let claims: IdentityClaims;
    try {
      const header = req.headers[IDENTITY_HEADER];
      if (typeof header !== 'string') throw new Error('missing');
      claims = verifyIdentity(header, { secret: opts.identitySecret, issuer: opts.issuer, audience: opts.audience });
    } catch {
      return result(failed('IdentityMissing', 'A verified X-Gatehouse-Identity is required.'));
    }
    const caller =
      tag('userId', claims.sub) + tag('organizationId', claims.org) + tag('loginName', claims.login) + tag('authKind', claims.kind) +
      tag('tokenId', claims.tid) + tag('requestId', String(req.headers['x-request-id'] ?? ''));
    const received =
      tag('receivedBytes', msg.bytes) + tag('sha256', msg.sha256) + tag('headerElements', msg.headerElements.join(' ')) +
      tag('parameters', Object.keys(msg.params).join(' ')) +
      tag('authorizationXmlLength', (msg.params[operation.credentialParameter] ?? '').length);
    const param = (name: string) => msg.params[name] ?? '';
    switch (op) {
      case 'ValidateAuthorization_v1':
        return result(okInfo(caller));
      case 'SendEnvelope_v1':
      case 'SendEnvelopeFromTemplate_v1':
        return result(okInfo(tag('envelopeId', randomUUID()) + caller + received));
      case 'CreateDraft_v1':
      case 'CreateDraftFromTemplate_v1':
        return result(okInfo(tag('draftId', randomUUID()) + caller + received));
      case 'UploadTemporarySspFile_v1':
      case 'UploadUserFile_v1':
        return result(okInfo(tag('fileId', randomUUID()) + caller + received));
      case 'GetEnvelopeById_v1':
        return result(okInfo(tag('envelopeId', param('envelopeId')) + tag('status', 'Active') + caller));
      default:
        return result(okInfo(tag('operation', op) + caller + received));
    }
  };
}
