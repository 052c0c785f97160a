// Hostile input, generated (fast-check): arbitrary headers, raw paths and SOAP preambles against an
// in-process gateway whose upstream records everything it receives. Every input gets a
// well-formed answer in its surface's shape (REST error body; SOAP: the operation's failed result or
// a Fault), nothing crashes, no 5xx
// (the upstream is healthy), and no credential ever reaches the upstream.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/tokens/token-format.js';
import { rawExchange } from '../helpers/recording-upstream.js';
import { useGateway } from '../helpers/use-gateway.js';

const { gw, upstream: up, users: { alice } } = useGateway({
  upstream: 'recording',
  // Abuse limits off: a fuzzer from one address would soon (rightly) get nothing but 429
  overrides: { abuse: { failuresPerIp: 0, failuresPerToken: 0, windowSeconds: 60, tokenRequestsPerSecond: 0 } },
  users: { alice: {} },
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const TNS = 'http://www.eSignAnyWhere.com/';
const RUNS = 200;

afterAll(() => {
  agent.destroy();
});
beforeEach(() => {
  up.received.length = 0;
});

/** Nothing the upstream ever received contains a secret of ours. */
function assertNoCredentialUpstream(): void {
  for (const r of up.received) {
    const seen = JSON.stringify(r.rawHeaders) + r.url + r.body.toString('latin1');
    expect(seen).not.toContain(alice.token);
    for (const name of ['apitoken', 'authorization', 'organizationkey', 'userloginname']) expect(r.headers[name]).toBeUndefined();
  }
}

function expectRestShape(status: number, contentType: string | undefined, body: string): void {
  expect(status, body).toBeLessThan(500);
  if (status >= 400) {
    expect(contentType).toMatch(/^application\/json/);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['ErrorId', 'Message', 'SupportId']);
    expect(body).not.toContain(alice.token);
  }
}

function send(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; type?: string; body: string }> {
  const { hostname, port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// --- generators -----------------------------------------------------------------------------

const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'host', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive']);
const headerName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/).filter((n) => !FRAMING.has(n.toLowerCase()));
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/);
const secretLike = fc.oneof(
  fc.constant('VALID'),
  fc.constant(mintToken('user')),
  fc.constant(mintToken('organization')),
  fc.stringMatching(/^[a-z0-9]{64,66}$/),
  fc.stringMatching(/^gt[uoc]_[A-Za-z0-9]{0,40}$/),
  headerValue,
);
const credentialHeader = fc.tuple(
  fc.constantFrom('apiToken', 'APITOKEN', 'apitoken', 'Authorization', 'organizationKey', 'userLoginName', 'X-Gatehouse-Identity', 'X-Forwarded-For', 'Forwarded'),
  fc.constantFrom('', 'Bearer ', 'bearer\t', 'Basic '),
  secretLike,
);
const withSecret = (v: string) => v.replace('VALID', alice.token);

describe('fuzzed REST headers', () => {
  it('always get a well-formed answer and never leak a credential upstream', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
        fc.array(credentialHeader, { maxLength: 3 }),
        fc.constantFrom('/Api/v6/envelope/1', '/api/V5.0/template/x', '/Api/v1/version', '/Api/v6/files/a?b=c'),
        async (plain, creds, path) => {
          const headers: Record<string, string> = {};
          for (const [n, v] of plain) headers[n] = v;
          for (const [n, scheme, v] of creds) headers[n] = `${scheme}${withSecret(v)}`.trim() || 'x';
          const res = await send(path, headers);
          statuses.add(res.status);
          expectRestShape(res.status, res.type, res.body);
          assertNoCredentialUpstream();
        },
      ),
      { numRuns: RUNS },
    );
    // the generators reach both sides: forwarded calls and refusals
    expect(statuses).toContain(200);
    expect(statuses).toContain(401);
  });
});

describe('fuzzed raw paths', () => {
  const segment = fc.oneof(
    fc.constantFrom('..', '.', '%2e%2e', '%2E', '%2f', '%5c', '\\', '%00', '%', '%zz', '%41pi', 'Api', 'API', 'v6', 'v6.0', 'v7', 'v0', 'envelope', ';x=1', '', '~', '%7e', '%u002e', '%c0%af'),
    fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,12}$/),
  );
  const rawPath = fc.tuple(fc.constantFrom('/Api/v6/', '/', '/./Api/', '/%41pi/v6/', '//Api/v6/', '/api.asmx/'), fc.array(segment, { maxLength: 6 }), fc.constantFrom('', '?x=1', '?apiToken=VALID', '#f'))
    .map(([prefix, segs, q]) => prefix + segs.join('/') + q);

  it('are judged on their normalized form, answered in the REST shape, and never forwarded with a credential', async () => {
    await fc.assert(
      fc.asyncProperty(rawPath, fc.boolean(), async (path, withToken) => {
        const p = withSecret(path).replace(alice.token, 'not-a-token'); // never a token in a URL, even a fuzzed one
        const raw = await rawExchange(gw.url, `GET ${p} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${withToken ? `apiToken: ${alice.token}\r\n` : ''}\r\n`);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
        const type = /\r\ncontent-type: ([^\r]+)/i.exec(raw)?.[1];
        const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
        expect(status, `${p} → ${raw.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
        // the settings page and Express's own routes answer HTML or JSON; the edge answers its error body
        if (/^\/(\.\/)?(%41|A)pi\//i.test(p) || /^\/\/Api/.test(p)) expectRestShape(status, type, body);
        else expect(status).toBeLessThan(500);
        for (const r of up.received) {
          expect(r.url).not.toMatch(/(^|\/)\.\.?(\/|$)|%2f|%5c|\\/i);
        }
        assertNoCredentialUpstream();
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzzed SOAP preambles', () => {
  const carrier = fc.constantFrom(
    (t: string) => `<soap:Header><AuthorizationHeader xmlns="${TNS}"><apiToken>${t}</apiToken></AuthorizationHeader></soap:Header>`,
    (t: string) =>
      `<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>${alice.login}</wsse:Username><wsse:Password>${t}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>`,
    () => '',
  );
  const noise = fc.oneof(
    fc.constantFrom('<!DOCTYPE x [<!ENTITY a "b">]>', '<?pi x?>', '<!-- c -->', '<![CDATA[x]]>', '&amp;', '&bogus;', '<a b="1" b="2"/>', '</unclosed>', '\u0000', '<x:y/>', '<', '>'),
    fc.stringMatching(/^[\x20-\x7e]{0,30}$/),
  );
  const operation = fc.constantFrom('GetEnvelopeById_v1', 'GetVersion_v1', 'SendEnvelope_v1', 'NoSuchOperation', 'getenvelopebyid_v1');
  const preamble = fc
    .record({ decl: fc.boolean(), noiseBefore: fc.array(noise, { maxLength: 2 }), header: carrier, inBody: fc.boolean(), op: operation, noiseInside: fc.array(noise, { maxLength: 3 }), cut: fc.nat({ max: 100 }), secret: secretLike })
    .map((r) => {
      const t = withSecret(r.secret);
      const body = `<soap:Body><${r.op} xmlns="${TNS}">${r.inBody ? `<authorizationXml>&lt;authorization&gt;&lt;apiToken&gt;${t}&lt;/apiToken&gt;&lt;/authorization&gt;</authorizationXml>` : ''}${r.noiseInside.join('')}<envelopeId>1</envelopeId></${r.op}></soap:Body>`;
      const doc = `${r.decl ? '<?xml version="1.0" encoding="utf-8"?>' : ''}${r.noiseBefore.join('')}<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">${r.header(t)}${body}</soap:Envelope>`;
      // sometimes cut short: a truncated message must still get its Fault
      return { doc: r.cut < 80 ? doc : doc.slice(0, Math.floor((doc.length * (r.cut - 80)) / 20)), op: r.op };
    });

  it("always get the operation's failed result, a Fault of the SOAP version (Client for bad input) or a clean forward without the credential", async () => {
    let forwarded = 0;
    let faults = 0;
    let failedResults = 0;
    await fc.assert(
      fc.asyncProperty(preamble, fc.constantFrom('1.1', '1.2'), async ({ doc, op }, version) => {
        const xml = version === '1.1' ? doc : doc.replaceAll('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope');
        const headers: Record<string, string> =
          version === '1.1'
            ? { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${TNS}${op}"` }
            : { 'content-type': `application/soap+xml; charset=utf-8; action="${TNS}${op}"` };
        const res = await send('/api.asmx', headers, 'POST', xml);
        if (res.status === 200 && up.received.length > 0) {
          forwarded++;
          assertNoCredentialUpstream();
          return;
        }
        // A refused call of a known operation: the platform's failure form, never forwarded
        if (res.status === 200) {
          expect(res.body, xml).toMatch(new RegExp(`<${op}Response xmlns="${TNS}"><${op}Result>&lt;apiResult&gt;&lt;baseResult&gt;failed&lt;/baseResult&gt;&lt;errorInfo&gt;`));
          expect(res.body).not.toContain(alice.token);
          expect(up.received).toEqual([]);
          failedResults++;
          return;
        }
        expect(res.body, `${res.status} ${xml}`).toMatch(version === '1.1' ? /<soap:Fault>.*<faultcode>soap:Client<\/faultcode>/s : /<env:Fault>.*<env:Value>env:Sender<\/env:Value>/s);
        expect(res.body).toContain('<errorInfo');
        expect(res.body).not.toContain(alice.token);
        expect(res.status).toBe(version === '1.1' ? 500 : 400);
        faults++;
        assertNoCredentialUpstream();
      }),
      { numRuns: RUNS },
    );
    // Both kinds of answer occur (refused calls of known operations are a minority of the fuzzed messages)
    expect(Math.min(forwarded, faults + failedResults), JSON.stringify({ forwarded, faults, failedResults })).toBeGreaterThan(0);
  });
});
