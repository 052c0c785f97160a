import { describe, expect, it } from 'vitest';
import { CredentialMissing, StoreUnavailable } from '../pipeline/errors.js';
import { faultStatus, faultXml } from './faults.js';

describe('SOAP Faults', () => {
  it('SOAP 1.1: soap:Client for the sender, soap:Server otherwise, always HTTP 500', () => {
    const xml = faultXml('1.1', new CredentialMissing(), 'req-1');
    expect(xml).toContain('<faultcode>soap:Client</faultcode>');
    expect(xml).toContain('<errorInfo xmlns="http://www.eSignAnyWhere.com/"><error>CredentialMissing</error><errorMsg>No credential: send your API token in the AuthorizationHeader SOAP header');
    expect(xml).toContain('<requestId>req-1</requestId>');
    expect(faultXml('1.1', new StoreUnavailable(), 'r')).toContain('<faultcode>soap:Server</faultcode>');
    expect(faultStatus('1.1', new CredentialMissing())).toBe(500);
  });

  it('SOAP 1.2: env:Sender → 400, env:Receiver → 500', () => {
    expect(faultXml('1.2', new CredentialMissing(), 'r')).toContain('<env:Code><env:Value>env:Sender</env:Value></env:Code>');
    expect(faultXml('1.2', new StoreUnavailable(), 'r')).toContain('<env:Value>env:Receiver</env:Value>');
    expect(faultStatus('1.2', new CredentialMissing())).toBe(400);
    expect(faultStatus('1.2', new StoreUnavailable())).toBe(500);
  });

  it('escapes the request id', () => {
    expect(faultXml('1.1', new CredentialMissing(), '<&>')).toContain('<requestId>&lt;&amp;&gt;</requestId>');
  });
});
