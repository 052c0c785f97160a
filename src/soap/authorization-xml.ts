// soap/: the legacy `authorizationXml` parameter — an escaped XML string
// `<authorization><apiToken>..</apiToken></authorization>` (or organizationKey + userLoginName),
// parsed with the same hardening as the envelope: no DOCTYPE, bounded depth, names and size.
import { SaxesParser } from 'saxes';
import { XmlDoctypeRefused, XmlLimitExceeded, XmlMalformed } from './errors.js';

export interface AuthorizationFields {
  apiToken?: string;
  organizationKey?: string;
  userLoginName?: string;
}

const FIELDS = new Set(['apiToken', 'organizationKey', 'userLoginName']);
const MAX_DEPTH = 4;
const MAX_LENGTH = 4096;

function malformed(): XmlMalformed {
  return new XmlMalformed('authorizationXml is not a well-formed <authorization> element.');
}

export function parseAuthorizationXml(raw: string): AuthorizationFields {
  if (raw.length > MAX_LENGTH) throw new XmlLimitExceeded('authorizationXml length');
  const parser = new SaxesParser();
  const fields: AuthorizationFields = {};
  const stack: string[] = [];
  let text = '';
  parser.on('doctype', () => {
    throw new XmlDoctypeRefused();
  });
  parser.on('opentag', (tag) => {
    stack.push(tag.name);
    if (stack.length > MAX_DEPTH) throw new XmlLimitExceeded('authorizationXml depth');
    if (stack.length === 1 && tag.name !== 'authorization') throw malformed();
    text = '';
  });
  parser.on('text', (t) => (text += t));
  parser.on('cdata', (t) => (text += t));
  parser.on('closetag', (tag) => {
    if (stack.length === 2 && FIELDS.has(tag.name)) fields[tag.name as keyof AuthorizationFields] = text.trim();
    stack.pop();
  });
  try {
    parser.write(raw).close();
  } catch (e) {
    if (e instanceof Error) throw malformed();
    throw e;
  }
  return fields;
}
