// What an attacker found ajar (issue 19), one case per finding, each against a real gateway in front
// of an upstream that records everything it receives: the refusal, and that nothing unjudged got through.
import { describe, expect, it } from 'vitest';
import { SOAP11_NS, TNS } from '../../src/soap/protocol.js';
import { rawRequest } from '../helpers/raw-request.js';
import { useGateway } from '../helpers/use-gateway.js';

const { gw, upstream, users: { alice } } = useGateway({
  upstream: 'recording',
  users: { alice: {} },
  noSecretsInLogs: true,
});

/** Sends exactly these bytes of path (fetch would normalize them). */
const send = (path: string, headers: Record<string, string>, method = 'GET', body?: string) => rawRequest(gw.url, path, headers, { method, body });

describe('2. path forms that upstream frameworks read differently', () => {
  it.each([
    ['Tomcat path parameters', '/Api/v5/envelope/..;/..;/v6/envelope/1'],
    ['a path parameter on a segment', '/Api/v5/envelope;jsessionid=x/1'],
    ['an encoded semicolon', '/Api/v5/envelope/..%3B/v6/envelope/1'],
    ['double encoding', '/Api/v5/envelope/%252e%252e/%252e%252e/v6/envelope/1'],
  ])('%s (%s): 400 PathRefused before any credential is looked at, never forwarded', async (_name, path) => {
    upstream.received.length = 0;
    // The finding used an organization token (fenced to v5); the path is refused whatever the credential
    const res = await send(path, { apiToken: alice.token });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).ErrorId).toBe('PathRefused');
    expect(upstream.received).toEqual([]);
  });
});

describe('3. a public SOAP operation carrying another', () => {
  const soap = (body: string, action = 'GetVersion_v1') =>
    send('/api.asmx', { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}${action}"` }, 'POST', `<soap:Envelope xmlns:soap="${SOAP11_NS}">${body}</soap:Envelope>`);
  const sendEnvelope = `<SendEnvelope_v1 xmlns="${TNS}"><envelopeDescriptionXml>x</envelopeDescriptionXml></SendEnvelope_v1>`;

  it.each([
    ['GetVersion_v1 followed by SendEnvelope_v1 in one Body', `<soap:Body><GetVersion_v1 xmlns="${TNS}"/>${sendEnvelope}</soap:Body>`],
    ['a second Body', `<soap:Body><GetVersion_v1 xmlns="${TNS}"/></soap:Body><soap:Body>${sendEnvelope}</soap:Body>`],
  ])('%s: a Fault, never forwarded', async (_name, body) => {
    upstream.received.length = 0;
    const res = await soap(body);
    expect(res.status).toBe(500);
    expect(res.body).toContain('<error>NotSoapEnvelope</error>');
    expect(upstream.received).toEqual([]);
  });

  it('SOAP 1.2 with an action naming another operation than the Body: a Fault', async () => {
    upstream.received.length = 0;
    const { status, body } = await send(
      '/api.asmx',
      { 'Content-Type': `application/soap+xml; charset=utf-8; action="${TNS}GetVersion_v1"` },
      'POST',
      `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>${sendEnvelope}</env:Body></env:Envelope>`,
    );
    expect(status).toBe(400);
    expect(body).toContain('<error>SoapActionMismatch</error>');
    expect(upstream.received).toEqual([]);
  });

  it('the public operation alone is still forwarded', async () => {
    upstream.received.length = 0;
    expect((await soap(`<soap:Body><GetVersion_v1 xmlns="${TNS}"/></soap:Body>`)).status).toBe(200);
    expect(upstream.received).toHaveLength(1);
  });
});

describe('9. the SOAP preamble limit is exact', () => {
  // The scan is done at the '>' of the first parameter's start tag, after the credential in the header
  const message = (padding: number) =>
    `<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header><Other xmlns="urn:x">${'p'.repeat(padding)}</Other>` +
    `<AuthorizationHeader xmlns="${TNS}"><apiToken>${alice.token}</apiToken></AuthorizationHeader></soap:Header>` +
    `<soap:Body><GetEnvelopeById_v1 xmlns="${TNS}"><envelopeId>1</envelopeId></GetEnvelopeById_v1></soap:Body></soap:Envelope>`;
  const neededBytes = (xml: string) => Buffer.byteLength(xml.slice(0, xml.indexOf('<envelopeId>') + '<envelopeId>'.length));
  const post = (xml: string) => send('/api.asmx', { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TNS}GetEnvelopeById_v1"` }, 'POST', xml);

  it('a credential whose scan ends at byte 65,536 is found; one byte later it is refused', async () => {
    const exactly = 64 * 1024 - neededBytes(message(0));
    expect(neededBytes(message(exactly))).toBe(64 * 1024);
    expect((await post(message(exactly))).status).toBe(200);
    const over = await post(message(exactly + 1));
    expect(over.status).toBe(500);
    expect(over.body).toContain('<error>XmlLimitExceeded</error>');
  });
});
