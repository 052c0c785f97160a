// soap/: the service contract read from a WSDL — which operations exist, their parameters in
// order, the parameter that carries each operation's credential, which need none, and the
// SOAPAction each binding names. Gatehouse knows no operation by name: the set comes from the WSDL
// it serves (the upstream's own, else wsdl/Api.wsdl). WSDL 1.1 (W3C Note 2001) document/literal
// "wrapped", as .NET ASMX services publish it: operation → input message → one part → a schema
// element whose sequence is the parameter list. Parsed with saxes (namespace-aware, no DTD).
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { soapOperationNeed } from '../permissions/soap-map.js';
import type { Need } from '../permissions/vocabulary.js';

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
const SOAP11_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
const SOAP12_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';

/**
 * The parameters the platform carries a credential in: `authorizationXml` (an escaped
 * `<authorization>` element) on most operations, `userToken` on UploadUserFile_v1. An operation
 * whose first parameter is neither needs no credential (GetVersion_v1 has no parameters at all).
 */
export const CREDENTIAL_PARAMETERS = ['authorizationXml', 'userToken'] as const;
export type CredentialParameter = (typeof CREDENTIAL_PARAMETERS)[number];

export interface OperationContract {
  name: string;
  /** The input element's children, in order. */
  parameters: string[];
  /** Where the credential travels in the Body; undefined = a public operation. */
  credentialParameter: CredentialParameter | undefined;
  /** SOAPAction per binding version, as the WSDL declares it. */
  soapActions: { '1.1'?: string; '1.2'?: string };
  /** What a call of it needs in the permission vocabulary (permissions/soap-map.ts); undefined = outside it. */
  need: Need | undefined;
  /** The output element (`<Op>Response`) and its string result (`<Op>Result`): where a refusal is answered. */
  responseElement: string;
  resultElement: string;
}

export interface ServiceContract {
  namespace: string;
  operations: ReadonlyMap<string, OperationContract>;
}

export class WsdlUnreadable extends Error {}

interface Node {
  uri: string;
  local: string;
  attrs: Record<string, string>;
}

const localOf = (qname: string | undefined) => (qname ?? '').slice((qname ?? '').indexOf(':') + 1);

/** Reads the contract; throws WsdlUnreadable when the text is no WSDL with at least one operation. */
export function readContract(wsdl: string): ServiceContract {
  const parser = new SaxesParser({ xmlns: true });
  const stack: Node[] = [];
  let namespace = '';
  const elements = new Map<string, string[]>(); // schema element → its sequence's element names
  const messages = new Map<string, string>(); // message → its part's element
  const inputs = new Map<string, string>(); // portType operation → its input message
  const outputs = new Map<string, string>(); // portType operation → its output message
  const actions = new Map<string, OperationContract['soapActions']>();
  let bindingVersion: '1.1' | '1.2' | undefined;
  let schemaElement: string | undefined;

  parser.on('doctype', () => {
    throw new WsdlUnreadable('a WSDL with a DOCTYPE is refused');
  });
  parser.on('opentag', (t) => {
    const tag = t as SaxesTagNS;
    const attrs = Object.fromEntries(Object.values(tag.attributes).map((a) => [a.local, a.value]));
    const node: Node = { uri: tag.uri, local: tag.local, attrs };
    const parent = stack[stack.length - 1];
    const path = stack.map((n) => n.local).join('/');
    stack.push(node);
    if (stack.length === 1) {
      if (tag.uri !== WSDL_NS || tag.local !== 'definitions') throw new WsdlUnreadable('not a WSDL 1.1 document');
      namespace = attrs.targetNamespace ?? '';
      return;
    }
    // types/schema/element: a top-level element declaration
    if (tag.uri === XSD_NS && tag.local === 'element' && path === 'definitions/types/schema') {
      schemaElement = attrs.name;
      if (schemaElement) elements.set(schemaElement, []);
      return;
    }
    // …its complexType/sequence/element children are its parameters
    if (tag.uri === XSD_NS && tag.local === 'element' && schemaElement && path === 'definitions/types/schema/element/complexType/sequence') {
      elements.get(schemaElement)!.push(attrs.name ?? '');
      return;
    }
    if (tag.uri !== WSDL_NS && parent?.local !== 'binding' && parent?.local !== 'operation') return;
    if (path === 'definitions/message' && tag.local === 'part') messages.set(parent!.attrs.name ?? '', localOf(attrs.element));
    else if (path === 'definitions/portType/operation' && tag.local === 'input') inputs.set(parent!.attrs.name ?? '', localOf(attrs.message));
    else if (path === 'definitions/portType/operation' && tag.local === 'output') outputs.set(parent!.attrs.name ?? '', localOf(attrs.message));
    else if (path === 'definitions/binding' && tag.local === 'binding') {
      bindingVersion = tag.uri === SOAP11_BINDING_NS ? '1.1' : tag.uri === SOAP12_BINDING_NS ? '1.2' : undefined;
    } else if (path === 'definitions/binding/operation' && tag.local === 'operation' && bindingVersion) {
      const op = parent!.attrs.name ?? '';
      const soapActions = actions.get(op) ?? {};
      soapActions[bindingVersion] = attrs.soapAction ?? '';
      actions.set(op, soapActions);
    }
  });
  parser.on('closetag', () => {
    const node = stack.pop()!;
    if (node.local === 'binding' && stack.length === 1) bindingVersion = undefined;
    if (node.uri === XSD_NS && node.local === 'element' && stack.length === 3) schemaElement = undefined;
  });
  try {
    parser.write(wsdl).close();
  } catch (e) {
    if (e instanceof WsdlUnreadable) throw e;
    throw new WsdlUnreadable(`not well-formed XML: ${(e as Error).message}`);
  }

  const operations = new Map<string, OperationContract>();
  for (const [name, message] of inputs) {
    const parameters = elements.get(messages.get(message) ?? '') ?? [];
    const first = parameters[0];
    const credentialParameter = CREDENTIAL_PARAMETERS.find((p) => p === first);
    const responseElement = messages.get(outputs.get(name) ?? '') || `${name}Response`;
    const resultElement = elements.get(responseElement)?.[0] || `${name}Result`;
    operations.set(name, { name, parameters, credentialParameter, need: soapOperationNeed(name), soapActions: actions.get(name) ?? {}, responseElement, resultElement });
  }
  if (operations.size === 0) throw new WsdlUnreadable('the WSDL declares no operation');
  return { namespace, operations };
}
