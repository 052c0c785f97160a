import { describe, expect, it } from 'vitest';
import { cutOut, pickCredential } from './gateway.js';
import { EnvelopeScanner, type ScanLimits } from './scan.js';
import { SOAP11_NS, TNS, WSSE_NS } from './protocol.js';
import { bundledWsdl } from './wsdl.js';

const CONTRACT = bundledWsdl().contract;

const LIMITS: ScanLimits = { preambleBytes: 64 * 1024, maxDepth: 32, maxAttributes: 64, maxNameLength: 256 };
const TOKEN = 'gtu_' + 'a'.repeat(36);

function scanAll(xml: string | Buffer, chunk = 7, limits = LIMITS) {
  const bytes = Buffer.isBuffer(xml) ? xml : Buffer.from(xml, 'utf8');
  const s = new EnvelopeScanner(limits, CONTRACT);
  for (let i = 0; i < bytes.length; i += chunk) {
    const r = s.push(bytes.subarray(i, i + chunk));
    if (r) return r;
  }
  return s.end();
}
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no refusal';
};
const env = (header: string, body: string) =>
  `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Header>${header}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;

describe('EnvelopeScanner', () => {
  it('finds the SOAP header credential and cuts exactly that element', () => {
    const xml = env(`<AuthorizationHeader xmlns="${TNS}"><apiToken>${TOKEN}</apiToken></AuthorizationHeader>`, `<SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>é€😀 data</envelopeXml></SendEnvelope_v1>`);
    const r = scanAll(xml);
    expect(r.operation).toBe('SendEnvelope_v1');
    expect(r.credentials).toEqual([{ carrier: 'soap-header', apiToken: TOKEN }]);
    const { head } = cutOut(Buffer.from(xml), r.cuts);
    expect(head.toString()).toBe(env('', `<SendEnvelope_v1 xmlns="${TNS}"><envelopeXml>é€😀 data</envelopeXml></SendEnvelope_v1>`));
  });

  it('finds a WS-Security UsernameToken; drops the Security header when it held nothing else', () => {
    const ut = `<wsse:UsernameToken><wsse:Username>bob@example.test</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${TOKEN}</wsse:Password></wsse:UsernameToken>`;
    const alone = env(`<wsse:Security xmlns:wsse="${WSSE_NS}">${ut}</wsse:Security>`, `<GetEnvelopeById_v1 xmlns="${TNS}"/>`);
    const r = scanAll(alone, 3);
    expect(r.credentials).toEqual([{ carrier: 'ws-security', userLoginName: 'bob@example.test', apiToken: TOKEN }]);
    expect(cutOut(Buffer.from(alone), r.cuts).head.toString()).toBe(env('', `<GetEnvelopeById_v1 xmlns="${TNS}"/>`));
    const withTs = env(`<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:Timestamp/>${ut}</wsse:Security>`, `<GetEnvelopeById_v1 xmlns="${TNS}"/>`);
    const r2 = scanAll(withTs);
    expect(cutOut(Buffer.from(withTs), r2.cuts).head.toString()).toContain(`<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:Timestamp/></wsse:Security>`);
  });

  it('flags a password digest as unsupported', () => {
    const xml = env(`<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password Type="x#PasswordDigest">zz</wsse:Password></wsse:UsernameToken></wsse:Security>`, `<CancelEnvelope_v1 xmlns="${TNS}"/>`);
    expect(scanAll(xml).credentials[0]!.unsupportedPasswordType).toBe(true);
  });

  it('reads authorizationXml (escaped or CDATA) and blanks its content', () => {
    const escaped = `&lt;authorization&gt;&lt;apiToken&gt;${TOKEN}&lt;/apiToken&gt;&lt;/authorization&gt;`;
    const xml = env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>${escaped}</authorizationXml><envelopeXml>x</envelopeXml></SendEnvelope_v1>`);
    const r = scanAll(xml, 5);
    expect(r.credentials).toEqual([{ carrier: 'authorization-xml', apiToken: TOKEN }]);
    expect(cutOut(Buffer.from(xml), r.cuts).head.toString()).toBe(env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml></authorizationXml><envelopeXml>x</envelopeXml></SendEnvelope_v1>`));
    const cdata = env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml><![CDATA[<authorization><organizationKey>k</organizationKey><userLoginName>u</userLoginName></authorization>]]></authorizationXml></SendEnvelope_v1>`);
    expect(scanAll(cdata).credentials).toEqual([{ carrier: 'authorization-xml', organizationKey: 'k', userLoginName: 'u' }]);
  });

  it('stops at the first parameter: the rest of the message is never parsed', () => {
    const xml = env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml/><envelopeXml>`) + 'not even <<< xml';
    const r = scanAll(xml, 4096);
    expect(r.operation).toBe('SendEnvelope_v1');
    expect(r.credentials).toEqual([]);
  });

  it('reports GetVersion_v1 with no credential', () => {
    expect(scanAll(env('', `<GetVersion_v1 xmlns="${TNS}"/>`))).toMatchObject({ operation: 'GetVersion_v1', operationNs: TNS, credentials: [] });
  });

  it.each([
    ['billion laughs', `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>&lol2;</soap:Body></soap:Envelope>`, 'XmlDoctypeRefused'],
    ['external entity', `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>&xxe;</soap:Body></soap:Envelope>`, 'XmlDoctypeRefused'],
    ['undeclared entity', env('', `<GetVersion_v1 xmlns="${TNS}">&xxe;</GetVersion_v1>`), 'XmlMalformed'],
    ['deep nesting', env('<a>'.repeat(10_000), ''), 'XmlLimitExceeded'],
    ['a long name', env(`<${'n'.repeat(300)}/>`, ''), 'XmlLimitExceeded'],
    ['many attributes', env(`<a ${Array.from({ length: 100 }, (_, i) => `a${i}="1"`).join(' ')}/>`, ''), 'XmlLimitExceeded'],
    ['a huge header', env(`<big>${'x'.repeat(200_000)}</big>`, ''), 'XmlLimitExceeded'],
    ['truncated XML', env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>abc`).slice(0, -40), 'XmlMalformed'],
    ['an empty body', '', 'XmlMalformed'],
    ['not an envelope', '<html><body/></html>', 'NotSoapEnvelope'],
    ['a declared Latin-1 encoding', `<?xml version="1.0" encoding="ISO-8859-1"?><soap:Envelope xmlns:soap="${SOAP11_NS}"/>`, 'EncodingRefused'],
    ['UTF-16 bytes', Buffer.from('\ufeff' + env('', ''), 'utf16le'), 'EncodingRefused'],
    ['invalid UTF-8', Buffer.concat(env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>|</authorizationXml></SendEnvelope_v1>`).split('|').flatMap((part, i) => (i ? [Buffer.from([0xc3, 0x28]), Buffer.from(part)] : [Buffer.from(part)]))), 'EncodingRefused'],
  ])('refuses %s', (_name, xml, code) => {
    expect(codeOf(() => scanAll(xml))).toBe(code);
  });

  it.each([
    ['a DOCTYPE inside authorizationXml', `&lt;!DOCTYPE a [&lt;!ENTITY b "c"&gt;]&gt;&lt;authorization/&gt;`],
    ['authorizationXml that is not an authorization element', `&lt;x&gt;`],
  ])('reports %s as a malformed credential of the call (never expanded)', (_name, value) => {
    const xml = env('', `<SendEnvelope_v1 xmlns="${TNS}"><authorizationXml>${value}</authorizationXml></SendEnvelope_v1>`);
    expect(scanAll(xml).credentials).toEqual([{ carrier: 'authorization-xml', malformed: true }]);
  });

  it("reads UploadUserFile_v1's userToken, the one operation whose credential has another name, and blanks it", () => {
    const xml = env('', `<UploadUserFile_v1 xmlns="${TNS}"><userToken>${TOKEN}</userToken><flowFileXml>x</flowFileXml></UploadUserFile_v1>`);
    const r = scanAll(xml);
    expect(r.credentials).toEqual([{ carrier: 'user-token', apiToken: TOKEN }]);
    expect(cutOut(Buffer.from(xml), r.cuts).head.toString()).toBe(env('', `<UploadUserFile_v1 xmlns="${TNS}"><userToken></userToken><flowFileXml>x</flowFileXml></UploadUserFile_v1>`));
  });

  it.each(['GetVersion_v1', 'DropAllTables', 'UploadUserFile_v1'])('reads and cuts an authorizationXml sent to %s too: no token reaches the upstream', (op) => {
    const xml = env('', `<${op} xmlns="${TNS}"><authorizationXml>&lt;authorization&gt;&lt;apiToken&gt;${TOKEN}&lt;/apiToken&gt;&lt;/authorization&gt;</authorizationXml></${op}>`);
    const r = scanAll(xml);
    expect(r).toMatchObject({ operation: op, credentials: [{ carrier: 'authorization-xml', apiToken: TOKEN }] });
    expect(cutOut(Buffer.from(xml), r.cuts).head.toString()).not.toContain(TOKEN);
  });
});

describe('one operation in one Body', () => {
  const two = `<GetVersion_v1 xmlns="${TNS}"/><SendEnvelope_v1 xmlns="${TNS}"><envelopeDescriptionXml>x</envelopeDescriptionXml></SendEnvelope_v1>`;
  it.each([
    ['a public operation followed by another', env('', two)],
    ['an operation followed by another, with a credential in the header', env(`<AuthorizationHeader xmlns="${TNS}"><apiToken>${TOKEN}</apiToken></AuthorizationHeader>`, `<CancelEnvelope_v1 xmlns="${TNS}"/><DeleteEnvelope_v1 xmlns="${TNS}"/>`)],
    ['a second Body', env('', `<GetVersion_v1 xmlns="${TNS}"/>`).replace('</soap:Envelope>', `<soap:Body><SendEnvelope_v1 xmlns="${TNS}"/></soap:Body></soap:Envelope>`)],
    ['a Header after the Body', env('', `<GetVersion_v1 xmlns="${TNS}"/>`).replace('</soap:Envelope>', '<soap:Header/></soap:Envelope>')],
  ])('refuses %s', (_name, xml) => {
    expect(codeOf(() => scanAll(xml))).toBe('NotSoapEnvelope');
  });

  it('reads a public operation to the end of the Envelope', () => {
    expect(scanAll(env('', `<GetVersion_v1 xmlns="${TNS}"/>`))).toMatchObject({ operation: 'GetVersion_v1', credentials: [] });
  });
});

describe('the preamble limit', () => {
  const LIMIT = 64 * 1024;
  // The scan is done at the '>' of the operation's first parameter after the credential: that byte is the last one it needs
  const message = (padding: number) => env(`<Other xmlns="urn:x">${'p'.repeat(padding)}</Other><AuthorizationHeader xmlns="${TNS}"><apiToken>${TOKEN}</apiToken></AuthorizationHeader>`, `<GetEnvelopeById_v1 xmlns="${TNS}"><envelopeId>1</envelopeId></GetEnvelopeById_v1>`);
  const doneAt = (xml: string) => Buffer.byteLength(xml.slice(0, xml.indexOf('<envelopeId>') + '<envelopeId>'.length));
  const exactly = LIMIT - doneAt(message(0));

  it.each([1, 7, 4096, 100_000])('is exact to the byte whatever the chunk size (%i): 64 KiB in, 64 KiB + 1 out', (chunk) => {
    expect(doneAt(message(exactly))).toBe(LIMIT);
    expect(scanAll(message(exactly - 1), chunk).credentials).toHaveLength(1);
    expect(scanAll(message(exactly), chunk).credentials).toHaveLength(1);
    expect(codeOf(() => scanAll(message(exactly + 1), chunk))).toBe('XmlLimitExceeded');
    expect(codeOf(() => scanAll(message(exactly + 30_000), chunk))).toBe('XmlLimitExceeded');
  });
});

describe('pickCredential', () => {
  it('takes the header first, accepts agreeing carriers, refuses disagreeing ones', () => {
    const h = { carrier: 'soap-header' as const, apiToken: 'a' };
    const x = { carrier: 'authorization-xml' as const, apiToken: 'a' };
    expect(pickCredential([x, h])).toBe(h);
    expect((pickCredential([h, { ...x, apiToken: 'b' }]) as { code: string }).code).toBe('CredentialConflict');
    expect(pickCredential([])).toBeUndefined();
  });
});
