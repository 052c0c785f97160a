// The contract kept in wsdl/ against the platform's published WSDL (test/helpers/platform-contract.ts),
// so a change to wsdl/Api.wsdl that drifts from the platform fails.
import { describe, expect, it } from 'vitest';
import { PLATFORM_OPERATIONS } from '../../test/helpers/platform-contract.js';
import { readContract, WsdlUnreadable } from './contract.js';
import { bundledWsdl } from './wsdl.js';


describe('the contract in wsdl/Api.wsdl', () => {
  const { contract } = bundledWsdl();

  it("is the platform's: 21 operations with the platform's parameters, in order", () => {
    expect(contract.namespace).toBe('http://www.eSignAnyWhere.com/');
    expect(Object.fromEntries([...contract.operations].map(([name, op]) => [name, op.parameters]))).toEqual(PLATFORM_OPERATIONS);
  });

  it('binds every operation on SOAP 1.1 and 1.2 with SOAPAction = namespace + operation', () => {
    for (const op of contract.operations.values()) {
      expect(op.soapActions).toEqual({ '1.1': `http://www.eSignAnyWhere.com/${op.name}`, '1.2': `http://www.eSignAnyWhere.com/${op.name}` });
      expect([op.responseElement, op.resultElement]).toEqual([`${op.name}Response`, `${op.name}Result`]);
    }
  });

  it('says where each operation carries its credential, and that only GetVersion_v1 needs none', () => {
    const by = (p: string | undefined) => [...contract.operations.values()].filter((o) => o.credentialParameter === p).map((o) => o.name);
    expect(by(undefined)).toEqual(['GetVersion_v1']);
    expect(by('userToken')).toEqual(['UploadUserFile_v1']);
    expect(by('authorizationXml')).toHaveLength(19);
  });
});

describe('readContract', () => {
  it.each([
    ['not XML', 'hello'],
    ['not a WSDL', '<html/>'],
    ['a DOCTYPE', '<!DOCTYPE d [<!ENTITY e "x">]><definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>'],
    ['no operation', '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="urn:x"/>'],
  ])('refuses %s', (_name, text) => {
    expect(() => readContract(text)).toThrow(WsdlUnreadable);
  });
});
