import { describe, expect, it } from 'vitest';
import { CredentialMissing, CredentialUnknown, PermissionDenied, StoreUnavailable, TooManyFailedAttempts } from '../outcomes/errors.js';
import { apiResultResponseXml, failedApiResult } from './api-result.js';
import { faultStatus, faultXml } from './faults.js';
import { bundledWsdl } from './wsdl.js';

const { contract } = bundledWsdl();
const op = (name: string) => contract.operations.get(name)!;

describe('SOAP Faults', () => {
  it('SOAP 1.1: soap:Client for the sender, soap:Server otherwise, always HTTP 500', () => {
    const xml = faultXml('1.1', new CredentialMissing(), 'req-1');
    expect(xml).toContain('<faultcode>soap:Client</faultcode>');
    expect(xml).toContain('<errorInfo xmlns="http://www.eSignAnyWhere.com/"><error>ERR0002</error><errorMsg>Parameter authorizationXml is empty');
    expect(xml).toContain('<supportId>req-1</supportId>');
    expect(faultXml('1.1', new StoreUnavailable(), 'r')).toContain('<faultcode>soap:Server</faultcode>');
    expect(faultStatus('1.1', new CredentialMissing())).toBe(500);
  });

  it('SOAP 1.2: env:Sender → 400, env:Receiver → 500', () => {
    expect(faultXml('1.2', new CredentialMissing(), 'r')).toContain('<env:Code><env:Value>env:Sender</env:Value></env:Code>');
    expect(faultXml('1.2', new StoreUnavailable(), 'r')).toContain('<env:Value>env:Receiver</env:Value>');
    expect(faultStatus('1.2', new CredentialMissing())).toBe(400);
    expect(faultStatus('1.2', new StoreUnavailable())).toBe(500);
  });

  it('escapes the support id', () => {
    expect(faultXml('1.1', new CredentialMissing(), '<&>')).toContain('<supportId>&lt;&amp;&gt;</supportId>');
  });
});

describe("the platform's failure form", () => {
  it("uses the platform's codes where it has one, with the code leading the message", () => {
    expect(failedApiResult(new CredentialMissing(), op('SendEnvelope_v1'), 'req-1')).toBe(
      '<apiResult><baseResult>failed</baseResult><errorInfo><error>ERR0002</error><errorMsg>ERR0002: Parameter authorizationXml is empty: send &lt;authorization&gt;&lt;apiToken&gt;your API token&lt;/apiToken&gt;&lt;/authorization&gt; in authorizationXml, or the token in a WS-Security UsernameToken (PasswordText) or the AuthorizationHeader SOAP header.</errorMsg><supportId>req-1</supportId></errorInfo></apiResult>',
    );
    expect(failedApiResult(new CredentialMissing(), op('UploadUserFile_v1'), 'r')).toContain('ERR0002: Parameter userToken is empty');
    expect(failedApiResult(new PermissionDenied(), op('CancelEnvelope_v1'), 'r')).toContain('<error>ERR0010</error>');
    expect(failedApiResult(new CredentialUnknown(), op('CancelEnvelope_v1'), 'r')).toContain('<error>CredentialUnknown</error><errorMsg>CredentialUnknown: The API token is not valid.</errorMsg>');
    expect(failedApiResult(new TooManyFailedAttempts(30), op('CancelEnvelope_v1'), 'r')).toContain('<error>TooManyFailedAttempts</error>');
  });

  it("answers in the operation's response element, the apiResult escaped in its result string", () => {
    const xml = apiResultResponseXml('1.2', contract.namespace, op('DeleteEnvelope_v1'), '<apiResult/>');
    expect(xml).toBe(
      '<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>' +
        '<DeleteEnvelope_v1Response xmlns="http://www.eSignAnyWhere.com/"><DeleteEnvelope_v1Result>&lt;apiResult/&gt;</DeleteEnvelope_v1Result></DeleteEnvelope_v1Response>' +
        '</env:Body></env:Envelope>',
    );
  });
});
