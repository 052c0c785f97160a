// The SOAP gateway end to end: a real SOAP client (the `soap` package) generated from the gateway's
// own ?wsdl, over SOAP 1.1 and 1.2, through the gateway to the real sample upstream; hostile
// messages over raw HTTP; the exact bytes the upstream receives, through a capturing upstream.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import * as soap from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { verifyIdentity } from '../../src/proxy/identity.js';
import { startSampleUpstream } from '../../src/sample-upstream/server.js';
import { SOAP11_NS, SOAP12_NS, TNS, WSSE_NS } from '../../src/soap/protocol.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { alice, disabled }, secrets } = useGateway({ users: { alice: {}, disabled: { tokenEnabled: false } } });

type Version = '1.1' | '1.2';
const VERSIONS: Version[] = ['1.1', '1.2'];

async function client(version: Version, base = gw.url): Promise<soap.Client> {
  return soap.createClientAsync(`${base}/api.asmx?wsdl`, { forceSoap12Headers: version === '1.2' });
}
const authXml = (token: string) => `<authorization><apiToken>${token}</apiToken></authorization>`;
const authHeader = (token: string) => `<AuthorizationHeader xmlns="${TNS}"><apiToken>${token}</apiToken></AuthorizationHeader>`;
/** The text of <name> inside an apiResult string. */
const field = (result: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(result)?.[1];

/**
 * A refused call as the platform's clients see it: the call succeeds (HTTP 200), its result string
 * says baseResult `failed`, with the error code and the request id as support id.
 */
async function refusalOf(c: soap.Client, op: string, args: object): Promise<string> {
  const [out, raw] = await c[`${op}Async`](args);
  const result: string = out[`${op}Result`];
  expect(field(result, 'baseResult')).toBe('failed');
  expect(field(result, 'supportId')).toBe(c.lastResponseHeaders?.['x-request-id']);
  expect(field(result, 'errorMsg')).toMatch(new RegExp(`^${field(result, 'error')}: `));
  for (const s of secrets) expect(raw).not.toContain(s);
  return field(result, 'error')!;
}

/** The errorInfo a client sees in its own error, for both SOAP versions. */
async function faultOf(call: Promise<unknown>): Promise<{ code: string; error: string; status: number }> {
  try {
    await call;
  } catch (e) {
    const err = e as { root?: { Envelope?: { Body?: { Fault?: Record<string, any> } } }; response?: { status: number }; body?: string };
    // A Fault never echoes a secret
    expect(err.body).toContain('errorInfo');
    for (const s of secrets) expect(err.body ?? '').not.toContain(s);
    const f = err.root?.Envelope?.Body?.Fault;
    if (!f) throw e;
    const code = f.faultcode ?? f.Code?.Value;
    const detail = f.detail ?? f.Detail;
    return { code, error: detail.errorInfo.error, status: err.response!.status };
  }
  throw new Error('expected a SOAP Fault');
}

describe('the WSDL', () => {
  it('is served at ?wsdl in any case with soap:address pointing at the gateway', async () => {
    for (const q of ['wsdl', 'WSDL', 'Wsdl']) {
      const res = await fetch(`${gw.url}/API.asmx?${q}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
      const text = await res.text();
      expect(text).toContain(`<soap:address location="${gw.url}/API.asmx" />`);
      expect(text).toContain(`<soap12:address location="${gw.url}/API.asmx" />`);
    }
  });
});

describe.each(VERSIONS)('a real SOAP %s client', (version) => {
  it('calls GetVersion_v1 without a credential', async () => {
    const c = await client(version);
    const [out] = await c.GetVersion_v1Async({});
    expect(field(out.GetVersion_v1Result, 'version')).toBe('26.11.0-sample');
  });

  it('sends SendEnvelope_v1 with the token in the SOAP header, which the upstream never sees', async () => {
    const c = await client(version);
    c.addSoapHeader(authHeader(alice.token));
    const [out, raw] = await c.SendEnvelope_v1Async({ envelopeDescriptionXml: '<envelope><name>Contract</name></envelope>' });
    const r: string = out.SendEnvelope_v1Result;
    expect(field(r, 'loginName')).toBe(alice.login);
    expect(field(r, 'authKind')).toBe('api-token');
    expect(field(r, 'tokenId')).toBe(alice.tokenId);
    expect(field(r, 'headerElements')).toBe('');
    expect(raw).not.toContain(alice.token);
  });

  it('sends SendEnvelope_v1 with a WS-Security UsernameToken (PasswordText)', async () => {
    const c = await client(version);
    c.setSecurity(new soap.WSSecurity(alice.login, alice.token, { passwordType: 'PasswordText' }));
    const [out] = await c.SendEnvelope_v1Async({ envelopeDescriptionXml: '<envelope/>' });
    expect(field(out.SendEnvelope_v1Result, 'loginName')).toBe(alice.login);
    // The Timestamp stays, the UsernameToken goes
    expect(field(out.SendEnvelope_v1Result, 'headerElements')).toBe('Security');
  });

  it('sends SendEnvelope_v1 with the legacy authorizationXml, blanked before the upstream', async () => {
    const c = await client(version);
    const [out] = await c.SendEnvelope_v1Async({ authorizationXml: authXml(alice.token), envelopeDescriptionXml: '<envelope/>' });
    expect(field(out.SendEnvelope_v1Result, 'loginName')).toBe(alice.login);
    expect(field(out.SendEnvelope_v1Result, 'authorizationXmlLength')).toBe('0');
  });

  it('gets GetEnvelopeById_v1 and ValidateAuthorization_v1', async () => {
    const c = await client(version);
    const [env] = await c.GetEnvelopeById_v1Async({ authorizationXml: authXml(alice.token), envelopeId: 'env-42' });
    expect(field(env.GetEnvelopeById_v1Result, 'envelopeId')).toBe('env-42');
    const [val] = await c.ValidateAuthorization_v1Async({ authorizationXml: authXml(alice.token) });
    expect(field(val.ValidateAuthorization_v1Result, 'userId')).toBe(alice.userId);
  });

  it.each([
    ['missing', () => ({ envelopeDescriptionXml: 'x' }), 'ERR0002'],
    ['malformed', () => ({ authorizationXml: authXml('not-a-token'), envelopeDescriptionXml: 'x' }), 'CredentialMalformed'],
    ['unknown', () => ({ authorizationXml: authXml(mintToken('user')), envelopeDescriptionXml: 'x' }), 'CredentialUnknown'],
    ['disabled', () => ({ authorizationXml: authXml(disabled.token), envelopeDescriptionXml: 'x' }), 'CredentialDisabled'],
    ['not an <authorization> element in', () => ({ authorizationXml: '<x/>', envelopeDescriptionXml: 'x' }), 'CredentialMalformed'],
  ])('sees baseResult failed, not an exception, for a %s token', async (_name, args, error) => {
    const c = await client(version);
    expect(await refusalOf(c, 'SendEnvelope_v1', args())).toBe(error);
  });

  it('is refused an organization token (orgTokens.allowSoap is off)', async () => {
    const c = await client(version);
    c.addSoapHeader(`<AuthorizationHeader xmlns="${TNS}"><organizationKey>${mintToken('organization')}</organizationKey><userLoginName>${alice.login}</userLoginName></AuthorizationHeader>`);
    expect(await refusalOf(c, 'SendEnvelope_v1', { envelopeDescriptionXml: 'x' })).toBe('OrgTokenNotAllowed');
    const legacy = await client(version);
    const args = { authorizationXml: authXml(mintToken('organization')), envelopeDescriptionXml: 'x' };
    expect(await refusalOf(legacy, 'SendEnvelope_v1', args)).toBe('OrgTokenNotAllowed');
  });

  it('is refused when the WS-Security Username is not the token user', async () => {
    const c = await client(version);
    c.setSecurity(new soap.WSSecurity('mallory@example.test', alice.token, { passwordType: 'PasswordText' }));
    expect(await refusalOf(c, 'SendEnvelope_v1', { envelopeDescriptionXml: 'x' })).toBe('CredentialUnknown');
  });

  it('is told to send a WS-Security PasswordDigest as PasswordText', async () => {
    const c = await client(version);
    c.setSecurity(new soap.WSSecurity(alice.login, alice.token, { passwordType: 'PasswordDigest' }));
    const [out] = await c.SendEnvelope_v1Async({ envelopeDescriptionXml: 'x' });
    expect(field(out.SendEnvelope_v1Result, 'error')).toBe('PasswordDigestUnsupported');
    expect(field(out.SendEnvelope_v1Result, 'errorMsg')).toContain('PasswordText');
  });

  it('is refused when two carriers disagree', async () => {
    const c = await client(version);
    c.addSoapHeader(authHeader(alice.token));
    expect(await refusalOf(c, 'SendEnvelope_v1', { authorizationXml: authXml(disabled.token), envelopeDescriptionXml: 'x' })).toBe('CredentialConflict');
  });
});

describe('soap.refusals: "fault" (the operator keeps Faults)', () => {
  let faulting: TestGateway;
  beforeAll(async () => {
    faulting = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { soap: { refusals: 'fault' } } });
  });
  afterAll(async () => {
    await faulting?.close();
  });

  it.each(VERSIONS)('SOAP %s: a refused call is a Fault of its version', async (version) => {
    const c = await client(version, faulting.url);
    const sender = version === '1.1' ? { code: 'soap:Client', status: 500 } : { code: 'env:Sender', status: 400 };
    expect(await faultOf(c.SendEnvelope_v1Async({ authorizationXml: authXml(disabled.token) }))).toEqual({ ...sender, error: 'CredentialDisabled' });
    expect(await faultOf(c.SendEnvelope_v1Async({}))).toEqual({ ...sender, error: 'ERR0002' });
  });
});

// Raw HTTP for what no well-behaved client sends
const V11 = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}SendEnvelope_v1"` };
const envelope11 = (header: string, body: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header>${header}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
const send = (body: string | Buffer, headers: Record<string, string> = V11) => fetch(`${gw.url}/api.asmx`, { method: 'POST', headers, body });

async function expectFault(res: Response, error: string) {
  const text = await res.text();
  expect(res.status).toBe(500);
  expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  expect(text).toContain('<faultcode>soap:Client</faultcode>');
  expect(text).toContain(`<error>${error}</error>`);
  expect(text).toContain(`<supportId>${res.headers.get('x-request-id')}</supportId>`);
}

describe('hostile and broken messages', () => {
  const sendEnvelope = `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>x</authorizationXml></SendEnvelope_v1>`;
  it.each([
    ['billion laughs', () => `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>&lol9;</soap:Body></soap:Envelope>`, 'XmlDoctypeRefused'],
    ['an external entity', () => `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>&xxe;</soap:Body></soap:Envelope>`, 'XmlDoctypeRefused'],
    ['10,000-deep nesting', () => envelope11('<a>'.repeat(10_000) + '</a>'.repeat(10_000), sendEnvelope), 'XmlLimitExceeded'],
    ['a 5 MB header', () => envelope11(`<big>${'A'.repeat(5 * 1024 * 1024)}</big>`, sendEnvelope), 'XmlLimitExceeded'],
    ['truncated XML', () => envelope11('', sendEnvelope).slice(0, 150), 'XmlMalformed'],
    ['an empty body', () => '', 'XmlMalformed'],
    ['a declared non-UTF-8 encoding', () => envelope11('', sendEnvelope).replace('utf-8', 'ISO-8859-1'), 'EncodingRefused'],
    ['an unknown operation', () => envelope11('', `<DropAllTables xmlns="${TNS}"/>`), 'OperationUnknown'],
    ['a SOAPAction that names another operation', () => envelope11('', `<CancelEnvelope_v1 xmlns="${TNS}"/>`), 'SoapActionMismatch'],
  ])('answers %s with a Fault', async (_name, body, error) => {
    await expectFault(await send(body()), error);
  });

  it('answers a wrong content type, a non-UTF-8 charset and a GET without ?wsdl with a Fault', async () => {
    await expectFault(await send(envelope11('', sendEnvelope), { 'Content-Type': 'application/json' }), 'ContentTypeRefused');
    await expectFault(await send(envelope11('', sendEnvelope), { ...V11, 'Content-Type': 'text/xml; charset=iso-8859-1' }), 'EncodingRefused');
    await expectFault(await fetch(`${gw.url}/api.asmx`), 'MethodNotAllowed');
  });

  it('answers a SOAP 1.2 envelope sent as SOAP 1.1 with a Fault', async () => {
    const body = `<env:Envelope xmlns:env="${SOAP12_NS}"><env:Body><GetVersion_v1 xmlns="${TNS}"/></env:Body></env:Envelope>`;
    await expectFault(await send(body), 'NotSoapEnvelope');
  });

  it('is unharmed afterwards, and no secret reached a log line', async () => {
    const c = await client('1.1');
    const [out] = await c.GetVersion_v1Async({});
    expect(field(out.GetVersion_v1Result, 'version')).toBeDefined();
    const logs = gw.logs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).toContain('"surface":"soap"');
  });
});

/** An upstream that records the exact request it receives (it publishes no WSDL: the gateway's ?wsdl fetch gets 404). */
async function captureUpstream() {
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(`<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body/></soap:Envelope>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('what the upstream receives', () => {
  it('the message minus its credentials, the rest byte for byte, with a verified identity', async () => {
    const cap = await captureUpstream();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: cap.url });
    try {
      const rest = `<envelopeXml>${'QUJD'.repeat(100_000)}é€😀</envelopeXml></SendEnvelope_v1>`;
      const header = `${authHeader(alice.token)}<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>${alice.login}</wsse:Username><wsse:Password>${alice.token}</wsse:Password></wsse:UsernameToken></wsse:Security><Other xmlns="urn:x">kept</Other>`;
      const body = envelope11(header, `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>${authXml(alice.token).replace(/</g, '&lt;')}</authorizationXml>${rest}`);
      const res = await fetch(`${local.url}/api.asmx`, { method: 'POST', headers: { ...V11, 'X-Gatehouse-Identity': 'forged' }, body });
      expect(res.status).toBe(200);
      const got = cap.seen[0]!;
      const text = got.body.toString('utf8');
      expect(text).toBe(envelope11(`<Other xmlns="urn:x">kept</Other>`, `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml></authorizationXml>${rest}`));
      expect(Number(got.headers['content-length'])).toBe(got.body.length);
      expect(got.headers.soapaction).toBe(`"${TNS}SendEnvelope_v1"`);
      const claims = verifyIdentity(String(got.headers['x-gatehouse-identity']), { secret: local.identitySecret, issuer: 'gatehouse', audience: 'gatehouse-upstream' });
      expect(claims).toMatchObject({ sub: alice.userId, login: alice.login, kind: 'api-token', tid: alice.tokenId });
    } finally {
      await local.close();
      await cap.close();
    }
  });

  it('Expect: 100-continue is answered by the gateway and not passed on', async () => {
    const cap = await captureUpstream();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: cap.url });
    try {
      const body = Buffer.from(envelope11(authHeader(alice.token), `<SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>${'x'.repeat(2 * 1024 * 1024)}</envelopeXml></SendEnvelope_v1>`));
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${local.url}/api.asmx`, { method: 'POST', headers: { ...V11, 'Content-Length': body.length, Expect: '100-continue' } });
        let continued = false;
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => (continued ? resolve(res.statusCode!) : reject(new Error('answered before 100 Continue'))));
        });
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error('hung')));
      });
      expect(status).toBe(200);
      expect(cap.seen[0]!.headers.expect).toBeUndefined();
      expect(cap.seen[0]!.body.length).toBe(body.length - Buffer.byteLength(authHeader(alice.token)));
    } finally {
      await local.close();
      await cap.close();
    }
  });

  it('Expect: 100-continue with a refused media type gets the Fault instead of 100 Continue', async () => {
    const answer = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/api.asmx`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': 5_000_000, Expect: '100-continue' } });
      let continued = false;
      req.on('continue', () => (continued = true));
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode!, continued, body });
          req.destroy();
        });
      });
      req.on('error', (e) => (continued ? reject(e) : undefined));
      req.flushHeaders();
    });
    expect(answer).toMatchObject({ status: 500, continued: false });
    expect(answer.body).toContain('<error>ContentTypeRefused</error>');
  });

  it('curl, which sends Expect: 100-continue for bodies over 1 MB, gets 100 Continue and its answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-curl-'));
    try {
      const file = join(dir, 'body.xml');
      writeFileSync(file, envelope11(authHeader(alice.token), `<SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>${'QUJD'.repeat(400_000)}</envelopeXml></SendEnvelope_v1>`));
      const { stdout, stderr } = await promisify(execFile)(
        'curl',
        ['-sv', '--max-time', '20', `${gw.url}/api.asmx`, '-H', `Content-Type: ${V11['Content-Type']}`, '-H', `SOAPAction: ${V11.SOAPAction}`, '--data-binary', `@${file}`],
        { encoding: 'utf8' },
      );
      expect(stderr).toContain('> Expect: 100-continue');
      expect(stderr).toContain('< HTTP/1.1 100 Continue');
      expect(stderr).toContain('< HTTP/1.1 200 OK');
      expect(stdout).toContain(`&lt;loginName&gt;${alice.login}&lt;/loginName&gt;`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable upstream is a Server Fault', async () => {
    const cap = await captureUpstream();
    await cap.close();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: cap.url });
    try {
      const res = await fetch(`${local.url}/api.asmx`, { method: 'POST', headers: V11, body: envelope11(authHeader(alice.token), `<SendEnvelope_v1 xmlns="${TNS}"/>`) });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(text).toContain('<faultcode>soap:Server</faultcode>');
      expect(text).toContain('<error>UpstreamUnavailable</error>');
    } finally {
      await local.close();
    }
  });

  it('an upstream slower than the timeout is a Server Fault', async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const local = await startTestGateway({
      store: ts.store,
      storeUrl: ts.url,
      upstream: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      overrides: { proxy: { timeoutMs: 200 } },
    });
    try {
      const res = await fetch(`${local.url}/api.asmx`, {
        method: 'POST',
        headers: { 'Content-Type': `application/soap+xml; charset=utf-8; action="${TNS}SendEnvelope_v1"` },
        body: `<env:Envelope xmlns:env="${SOAP12_NS}"><env:Body><SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>${authXml(alice.token).replace(/</g, '&lt;')}</authorizationXml></SendEnvelope_v1></env:Body></env:Envelope>`,
      });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/soap+xml; charset=utf-8');
      expect(text).toContain('<env:Value>env:Receiver</env:Value>');
      expect(text).toContain('<error>UpstreamTimeout</error>');
    } finally {
      await local.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('a chunked request (no Content-Length) streams through chunked', async () => {
    const cap = await captureUpstream();
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: cap.url });
    try {
      const parts = [envelope11(authHeader(alice.token), `<SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>`), 'x'.repeat(300_000), '</envelopeXml></SendEnvelope_v1></soap:Body></soap:Envelope>'];
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${local.url}/api.asmx`, { method: 'POST', headers: V11 });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        for (const p of parts) req.write(p);
        req.end();
      });
      expect(status).toBe(200);
      expect(cap.seen[0]!.headers['transfer-encoding']).toBe('chunked');
      expect(cap.seen[0]!.body.toString()).toBe(parts.join('').replace(authHeader(alice.token), ''));
    } finally {
      await local.close();
      await cap.close();
    }
  });
});

describe('the sample SOAP upstream', () => {
  it('answers GetVersion_v1 to anyone and refuses other operations without a verified identity', async () => {
    const up = await startSampleUpstream({ identitySecret: 'x'.repeat(32), issuer: 'gatehouse', audience: 'gatehouse-upstream' });
    try {
      const version = await fetch(`${up.url}/api.asmx`, { method: 'POST', headers: V11, body: envelope11('', `<GetVersion_v1 xmlns="${TNS}"/>`) });
      expect(await version.text()).toContain('&lt;version&gt;26.11.0-sample&lt;/version&gt;');
      const refused = await fetch(`${up.url}/api.asmx`, { method: 'POST', headers: { ...V11, 'X-Gatehouse-Identity': 'forged' }, body: envelope11('', `<SendEnvelope_v1 xmlns="${TNS}"/>`) });
      expect(refused.status).toBe(200);
      expect(await refused.text()).toContain('&lt;baseResult&gt;failed&lt;/baseResult&gt;&lt;errorInfo&gt;&lt;error&gt;IdentityMissing&lt;/error&gt;');
    } finally {
      await up.close();
    }
  });
});
