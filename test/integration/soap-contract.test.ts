// The platform's SOAP contract end to end: every operation of the WSDL the gateway serves, called
// by a client generated from that WSDL (the `soap` package), on SOAP 1.1 and 1.2, through the
// gateway to the sample upstream; every refusal answered as the platform answers (HTTP 200,
// baseResult failed, the error code, the access-log request id as support id); the upstream's own
// WSDL served and obeyed when it publishes one; the action forms other toolkits send.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as soap from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';
import { bundledWsdl } from '../../src/soap/wsdl.js';
import { PLATFORM_OPERATIONS } from '../helpers/platform-contract.js';
import { TEST_ACTOR } from '../helpers/fixtures.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users } = useGateway({
  users: {
    alice: {},
    disabled: { org: 'refused', tokenEnabled: false },
    userDisabled: { org: 'refused', enabled: false },
    noPermission: { org: 'refused', roles: ['Plain'] },
    denied: { org: 'refused', roles: ['Integrators', 'Blocked'] },
    expired: { org: 'refused' },
    revoked: { org: 'refused' },
  },
});
const { alice } = users;
const secrets: string[] = [];
const refused: Record<string, () => string> = {};

type Version = '1.1' | '1.2';
const VERSIONS: Version[] = ['1.1', '1.2'];
const OPERATIONS = Object.keys(PLATFORM_OPERATIONS);

const authXml = (token: string) => `<authorization><apiToken>${token}</apiToken></authorization>`;
const field = (result: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(result)?.[1];
const client = (version: Version, base = gw.url) => soap.createClientAsync(`${base}/api.asmx?wsdl`, { forceSoap12Headers: version === '1.2' });

/** The arguments of a call of `op` carrying `token` where that operation carries its credential. */
function argsFor(op: string, token: string | undefined): Record<string, string> {
  const params = PLATFORM_OPERATIONS[op]!;
  const args: Record<string, string> = {};
  for (const p of params) args[p] = p === 'expirationInDays' ? '7' : p === 'sspFileIds' ? '' : `${p}-value`;
  delete args.sspFileIds;
  if (params[0] === 'authorizationXml') args.authorizationXml = token === undefined ? '' : authXml(token);
  if (params[0] === 'userToken') args.userToken = token ?? '';
  return args;
}

beforeAll(async () => {
  const { disabled, userDisabled, noPermission, denied, expired, revoked } = users;
  const { secret: expiredSecret } = await ts.store.admin.createApiToken(TEST_ACTOR, expired.login, 'expired', { enabled: true, expiresAt: new Date(Date.now() - 60_000).toISOString() });
  await ts.store.lifecycle.revokeLeaked(TEST_ACTOR, [{ token: revoked.token, url: 'https://example.test/leak' }]);
  const orgToken = mintToken('organization');
  secrets.push(alice.token, disabled.token, userDisabled.token, noPermission.token, denied.token, expiredSecret, revoked.token, orgToken);
  Object.assign(refused, {
    CredentialMalformed: () => 'not-a-token',
    CredentialUnknown: () => mintToken('user'),
    CredentialDisabled: () => disabled.token,
    CredentialExpired: () => expiredSecret,
    CredentialRevoked: () => revoked.token,
    UserDisabled: () => userDisabled.token,
    'ERR0010 (no API permission)': () => noPermission.token,
    'ERR0010 (API denied by a role)': () => denied.token,
  });
});

describe('the served WSDL', () => {
  it("describes the platform's 21 operations with their parameters, on bindings ApiSoap (1.1) and ApiSoap12 (1.2) of service Api", async () => {
    const c = await client('1.1');
    const services = c.describe() as Record<string, Record<string, Record<string, { input: Record<string, unknown> }>>>;
    expect(Object.keys(services)).toEqual(['Api']);
    expect(Object.keys(services.Api!).sort()).toEqual(['ApiSoap', 'ApiSoap12']);
    for (const port of ['ApiSoap', 'ApiSoap12']) {
      const ops = services.Api![port]!;
      expect(Object.keys(ops).sort()).toEqual([...OPERATIONS].sort());
      for (const op of OPERATIONS) expect(Object.keys(ops[op]!.input ?? {}).filter((k) => !k.endsWith('NSAttributes'))).toEqual(PLATFORM_OPERATIONS[op]);
    }
  });
});

describe.each(VERSIONS)('every operation over SOAP %s, with a client generated from the served WSDL', (version) => {
  it.each(OPERATIONS)('%s with a valid credential is forwarded and answered', async (op) => {
    const c = await client(version);
    const [out, raw] = await c[`${op}Async`](argsFor(op, alice.token));
    const result: string = out[`${op}Result`];
    expect(field(result, 'baseResult')).toBe('ok');
    if (op === 'GetVersion_v1') {
      expect(field(result, 'version')).toBe('26.11.0-sample');
      return;
    }
    // The upstream was told who called, and never saw the token
    expect(field(result, 'userId')).toBe(alice.userId);
    expect(raw).not.toContain(alice.token);
    if (op !== 'ValidateAuthorization_v1' && op !== 'GetEnvelopeById_v1') {
      expect(field(result, 'authorizationXmlLength')).toBe('0');
      expect(field(result, 'parameters')?.split(' ')[0]).toBe(PLATFORM_OPERATIONS[op]![0]);
    }
  });

  it.each(OPERATIONS.filter((op) => op !== 'GetVersion_v1'))('%s without a credential is answered baseResult failed, ERR0002', async (op) => {
    const c = await client(version);
    const [out] = await c[`${op}Async`](argsFor(op, undefined));
    const result: string = out[`${op}Result`];
    expect(field(result, 'baseResult')).toBe('failed');
    expect(field(result, 'error')).toBe('ERR0002');
    expect(field(result, 'errorMsg')).toContain(`Parameter ${PLATFORM_OPERATIONS[op]![0]} is empty`);
    expect(field(result, 'supportId')).toBe(c.lastResponseHeaders?.['x-request-id']);
  });

  it('every refusal reason: HTTP 200, baseResult failed, its code, the access-log request id as support id', async () => {
    const c = await client(version);
    const supportIds: string[] = [];
    for (const op of ['SendEnvelope_v1', 'UploadUserFile_v1']) {
      for (const [reason, token] of Object.entries(refused)) {
        const [out, raw] = await c[`${op}Async`](argsFor(op, token()));
        const result: string = out[`${op}Result`];
        const supportId = c.lastResponseHeaders?.['x-request-id'];
        expect({ op, reason, baseResult: field(result, 'baseResult'), error: field(result, 'error') }).toEqual({ op, reason, baseResult: 'failed', error: reason.split(' ')[0] });
        expect(field(result, 'supportId')).toBe(supportId);
        supportIds.push(String(supportId));
        for (const s of secrets) expect(raw).not.toContain(s);
      }
    }
    // Support finds the call: the support id is the request id of its access-log line (written as the response ends)
    await expect
      .poll(() => supportIds.filter((id) => !gw.logs.some((l) => l.includes(`"requestId":"${id}"`) && l.includes(`"message":"access"`))))
      .toEqual([]);
  });

  it('an organization token is refused (orgTokens.allowSoap is off)', async () => {
    const c = await client(version);
    const [out] = await c.CancelEnvelope_v1Async({
      authorizationXml: `<authorization><organizationKey>${mintToken('organization')}</organizationKey><userLoginName>${alice.login}</userLoginName></authorization>`,
      envelopeId: '1',
    });
    expect(field(out.CancelEnvelope_v1Result, 'error')).toBe('OrgTokenNotAllowed');
  });

  it('no secret reached a log line', () => {
    const logs = gw.logs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});

describe('too many failed attempts', () => {
  it.each(VERSIONS)('SOAP %s: HTTP 200, baseResult failed, TooManyFailedAttempts, and Retry-After as a header', async (version) => {
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { abuse: { failuresPerIp: 2, failuresPerToken: 100, windowSeconds: 60, tokenRequestsPerSecond: 0 } } });
    try {
      const c = await client(version, local.url);
      for (let i = 0; i < 2; i++) await c.DeleteEnvelope_v1Async({ authorizationXml: authXml(mintToken('user')), envelopeId: '1' });
      const [out] = await c.DeleteEnvelope_v1Async({ authorizationXml: authXml(alice.token), envelopeId: '1' });
      expect(field(out.DeleteEnvelope_v1Result, 'baseResult')).toBe('failed');
      expect(field(out.DeleteEnvelope_v1Result, 'error')).toBe('TooManyFailedAttempts');
      expect(Number(c.lastResponseHeaders?.['retry-after'])).toBeGreaterThan(0);
    } finally {
      await local.close();
    }
  });
});

describe('soap.refusals: "fault"', () => {
  it.each(VERSIONS)('SOAP %s: the same refusals as Faults, with the platform codes in errorInfo', async (version) => {
    const local = await startTestGateway({ store: ts.store, storeUrl: ts.url, overrides: { soap: { refusals: 'fault' } } });
    try {
      const c = await client(version, local.url);
      for (const [reason, token] of Object.entries({ ...refused, ERR0002: () => undefined })) {
        const op = 'GetEnvelopeById_v1';
        const failure = await c[`${op}Async`](argsFor(op, token())).then(
          () => undefined,
          (e: { response?: { status: number }; body?: string }) => e,
        );
        expect(failure, reason).toBeDefined();
        // Every one of these is the sender's: soap:Client (HTTP 500) / env:Sender (HTTP 400)
        expect(failure!.response!.status).toBe(version === '1.1' ? 500 : 400);
        expect(failure!.body).toContain(`<error>${reason.split(' ')[0]}</error>`);
      }
    } finally {
      await local.close();
    }
  });
});

/** An upstream that publishes its own WSDL (one operation more, one less) and answers any POST. */
async function upstreamWithWsdl() {
  const text = bundledWsdl()
    .text.replace(/DisposeSspFile_v1/g, 'ArchiveEnvelope_v1')
    .replace(/<soap(12)?:address location="[^"]*"/g, '<soap$1:address location="https://platform.internal/api.asmx"');
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(text);
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      posts.push(body);
      const op = /<(\w+_v\d)\b/.exec(body.slice(body.indexOf('Body>')))?.[1] ?? 'x';
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(`<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><${op}Response xmlns="${TNS}"><${op}Result>&lt;apiResult&gt;&lt;baseResult&gt;ok&lt;/baseResult&gt;&lt;/apiResult&gt;</${op}Result></${op}Response></soap:Body></soap:Envelope>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe("the upstream's own WSDL", () => {
  let up: Awaited<ReturnType<typeof upstreamWithWsdl>>;
  let local: TestGateway;
  beforeAll(async () => {
    up = await upstreamWithWsdl();
    local = await startTestGateway({ store: ts.store, storeUrl: ts.url, upstream: up.url, overrides: { server: { host: '127.0.0.1', port: 0, publicUrl: 'https://gatehouse.example.test/' } } });
  });
  afterAll(async () => {
    await local?.close();
    await up?.close();
  });

  it('is served, its addresses rewritten to the configured public URL (never the Host header)', async () => {
    const text = await (await fetch(`${local.url}/api.asmx?wsdl`, { headers: { 'X-Forwarded-Host': 'evil.example.test' } })).text();
    expect(text).toContain('ArchiveEnvelope_v1');
    expect(text).not.toContain('platform.internal');
    expect(text.match(/location="[^"]*"/g)).toEqual(['location="https://gatehouse.example.test/api.asmx"', 'location="https://gatehouse.example.test/api.asmx"']);
  });

  it('decides which operations exist: its new one is forwarded, the one it dropped is unknown', async () => {
    const call = (op: string) =>
      fetch(`${local.url}/api.asmx`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}${op}"` },
        body: `<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><${op} xmlns="${TNS}"><authorizationXml>${authXml(alice.token).replace(/</g, '&lt;')}</authorizationXml><sspFileId>1</sspFileId></${op}></soap:Body></soap:Envelope>`,
      });
    const archived = await call('ArchiveEnvelope_v1');
    expect(archived.status).toBe(200);
    expect(await archived.text()).toContain('&lt;baseResult&gt;ok');
    expect(up.posts.at(-1)).toContain('<ArchiveEnvelope_v1');
    expect(up.posts.at(-1)).not.toContain(alice.token);
    const dropped = await call('DisposeSspFile_v1');
    expect(dropped.status).toBe(500);
    expect(await dropped.text()).toContain('<error>OperationUnknown</error>');
  });
});

describe('SOAPAction forms', () => {
  const call = (action: string) =>
    fetch(`${gw.url}/api.asmx`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: action },
      body: `<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><ValidateAuthorization_v1 xmlns="${TNS}"><authorizationXml>${authXml(alice.token).replace(/</g, '&lt;')}</authorizationXml></ValidateAuthorization_v1></soap:Body></soap:Envelope>`,
    });

  it.each([
    ['the WSDL soapAction', `"${TNS}ValidateAuthorization_v1"`],
    ["SOAP::Lite's default namespace#Operation", `"${TNS}#ValidateAuthorization_v1"`],
    ['namespace#Operation without the trailing slash', `"${TNS.slice(0, -1)}#ValidateAuthorization_v1"`],
    ['an empty action (the body decides)', '""'],
  ])('accepts %s', async (_name, action) => {
    const res = await call(action);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`&lt;userId&gt;${alice.userId}&lt;/userId&gt;`);
  });

  it.each([
    ['another operation', `"${TNS}CancelEnvelope_v1"`],
    ['another operation in the # form', `"${TNS}#CancelEnvelope_v1"`],
    ['another namespace', '"urn:other#ValidateAuthorization_v1"'],
  ])('refuses %s with a Fault', async (_name, action) => {
    const res = await call(action);
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('<error>SoapActionMismatch</error>');
  });
});

describe("Perl's SOAP::Lite, with its defaults (namespace#Operation SOAPAction)", () => {
  const script = fileURLToPath(new URL('../clients/soap-lite.pl', import.meta.url));
  const run = async (op: string, token: string, ...params: string[]) => {
    const { stdout } = await promisify(execFile)('perl', [script, `${gw.url}/api.asmx`, op, authXml(token), ...params], { encoding: 'utf8', timeout: 20_000 });
    return { status: /^HTTP: (.*)$/m.exec(stdout)?.[1], result: /^RESULT: (.*)$/m.exec(stdout)?.[1] ?? '' };
  };

  it('gets its envelope, and a refusal as baseResult failed it can read', async () => {
    const ok = await run('GetEnvelopeById_v1', alice.token, 'envelopeId=env-7');
    expect(ok.status).toBe('200 OK');
    expect(field(ok.result, 'envelopeId')).toBe('env-7');
    expect(field(ok.result, 'loginName')).toBe(alice.login);
    const no = await run('CancelEnvelope_v1', mintToken('user'), 'envelopeId=env-7');
    expect(no.status).toBe('200 OK');
    expect(field(no.result, 'baseResult')).toBe('failed');
    expect(field(no.result, 'error')).toBe('CredentialUnknown');
  });
});
