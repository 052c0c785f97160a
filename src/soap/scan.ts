// soap/: the streaming credential scan. Feeds the request's bytes to a streaming XML parser (saxes:
// namespace-aware, never expands entities beyond the five predefined ones) only until the
// credential is known — the SOAP header element, the WS-Security UsernameToken, the legacy
// `authorizationXml` first parameter — and the operation is named. It returns what it found and
// the byte ranges to cut out of the buffered preamble; the rest of the message is never parsed.
// Hostile input is refused as it arrives: DOCTYPE, depth, attribute count, name length, preamble
// size, non-UTF-8 bytes or declared encodings. Pure: no I/O (readPreamble below does the reading).
// /!\ Hot path (every SOAP call goes through it, but only over its first few KiB).
import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { GatehouseError } from '../outcomes/errors.js';
import { parseAuthorizationXml, type AuthorizationFields } from './authorization-xml.js';
import { CREDENTIAL_PARAMETERS, type CredentialParameter, type ServiceContract } from './contract.js';
import { EncodingRefused, NotSoapEnvelope, XmlDoctypeRefused, XmlLimitExceeded, XmlMalformed } from './errors.js';
import { AUTH_HEADER, PASSWORD_TEXT, SOAP11_NS, SOAP12_NS, WSSE_NS } from './protocol.js';

export interface ScanLimits {
  preambleBytes: number;
  maxDepth: number;
  maxAttributes: number;
  maxNameLength: number;
}

export type Carrier = 'soap-header' | 'ws-security' | 'authorization-xml' | 'user-token';

export interface FoundCredential extends AuthorizationFields {
  carrier: Carrier;
  /** WS-Security: a password type other than PasswordText (a digest cannot be checked against a hash). */
  unsupportedPasswordType?: boolean;
  /** The credential parameter held something that is not an `<authorization>` element. */
  malformed?: boolean;
}

export interface ScanResult {
  envelopeNs: string;
  /** Local name and namespace of the Body's first element ('' when the Body is empty). */
  operation: string;
  operationNs: string;
  credentials: FoundCredential[];
  /** Byte ranges [start, end) of the preamble that the upstream must not receive. */
  cuts: Array<[number, number]>;
}

interface Open {
  local: string;
  uri: string;
  /** String index of the tag's '<', and just after its '>'. */
  start: number;
  contentStart: number;
  selfClosing: boolean;
}

const DONE = Symbol('scan done');

export class EnvelopeScanner {
  private readonly parser = new SaxesParser({ xmlns: true });
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** Everything decoded so far: positions are indices into it (the preamble is bounded). */
  private text = '';
  private bytes = 0;
  private readonly stack: Open[] = [];
  private tagStart = 0;
  private attributes = 0;
  private collecting: string | undefined;
  private header: AuthorizationFields | undefined;
  private security: { start: number; others: number; token?: FoundCredential; tokenRange?: [number, number] } | undefined;
  private usernameToken: FoundCredential | undefined;
  private result: ScanResult = { envelopeNs: '', operation: '', operationNs: '', credentials: [], cuts: [] };
  private charCuts: Array<[number, number]> = [];
  private finished: ScanResult | undefined;
  private bodySeen = false;

  constructor(
    private readonly limits: ScanLimits,
    private readonly contract: ServiceContract,
  ) {
    const p = this.parser;
    p.on('xmldecl', (decl) => {
      if (decl.encoding && !/^utf-?8$/i.test(decl.encoding)) throw new EncodingRefused();
    });
    p.on('doctype', () => {
      throw new XmlDoctypeRefused();
    });
    p.on('opentagstart', (tag) => {
      if (tag.name.length > limits.maxNameLength) throw new XmlLimitExceeded('element name length');
      if (this.stack.length + 1 > limits.maxDepth) throw new XmlLimitExceeded('element depth');
      this.tagStart = this.text.lastIndexOf('<', p.position - 1);
      this.attributes = 0;
    });
    p.on('attribute', (attr) => {
      if (++this.attributes > limits.maxAttributes) throw new XmlLimitExceeded('attribute count');
      if (attr.name.length > limits.maxNameLength) throw new XmlLimitExceeded('attribute name length');
    });
    p.on('opentag', (tag) => this.open(tag as SaxesTagNS));
    p.on('closetag', (tag) => this.close(tag as SaxesTagNS));
    p.on('text', (t) => {
      if (this.collecting !== undefined) this.collecting += t;
    });
    p.on('cdata', (t) => {
      if (this.collecting !== undefined) this.collecting += t;
    });
  }

  /** Feeds one chunk. Returns the result once the credential and operation are known; throws a GatehouseError to refuse. */
  push(chunk: Buffer): ScanResult | undefined {
    if (this.finished) return this.finished;
    // Exact to the byte: only the bytes within the limit are parsed, however the chunks fall
    const room = Math.max(this.limits.preambleBytes - this.bytes, 0);
    const within = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.bytes += chunk.length;
    let decoded: string;
    try {
      decoded = this.decoder.decode(within, { stream: true });
    } catch {
      throw new EncodingRefused();
    }
    this.text += decoded;
    this.feed(decoded);
    if (this.finished) return this.finished;
    if (this.bytes > this.limits.preambleBytes) throw new XmlLimitExceeded('the SOAP header and first parameter must fit in the preamble limit');
    return undefined;
  }

  /** The message ended before the scan finished. */
  end(): ScanResult {
    if (this.finished) return this.finished;
    if (this.bytes === 0) throw new XmlMalformed('The message is empty.');
    try {
      const rest = this.decoder.decode();
      this.text += rest;
      this.feed(rest, true);
    } catch (e) {
      if (e instanceof GatehouseError) throw e;
      throw new EncodingRefused();
    }
    if (this.finished) return this.finished;
    throw new NotSoapEnvelope('The SOAP envelope has no Body.');
  }

  private feed(text: string, last = false): void {
    try {
      this.parser.write(text);
      if (last) this.parser.close();
    } catch (e) {
      if (e === DONE) return this.finish();
      if (e instanceof GatehouseError) throw e;
      throw new XmlMalformed();
    }
  }

  private finish(): void {
    const byteAt = (i: number) => Buffer.byteLength(this.text.slice(0, i), 'utf8');
    this.result.cuts = this.charCuts.map(([s, e]) => [byteAt(s), byteAt(e)]);
    this.finished = this.result;
  }

  private open(tag: SaxesTagNS): void {
    const el: Open = { local: tag.local, uri: tag.uri, start: this.tagStart, contentStart: this.parser.position, selfClosing: tag.isSelfClosing };
    this.stack.push(el);
    const depth = this.stack.length;
    const parent = this.stack[depth - 2];
    this.collecting = undefined;
    if (depth === 1) {
      if (el.local !== 'Envelope' || (el.uri !== SOAP11_NS && el.uri !== SOAP12_NS)) throw new NotSoapEnvelope();
      this.result.envelopeNs = el.uri;
      return;
    }
    const env = this.result.envelopeNs;
    if (depth === 2) {
      if (el.uri !== env || (el.local !== 'Header' && el.local !== 'Body')) throw new NotSoapEnvelope('Only a SOAP Header and Body may appear in the Envelope.');
      // One Header, then one Body (SOAP 1.1 §4, SOAP 1.2 Part 1 §5): a second Body could carry an operation nobody judged
      if (this.bodySeen) throw new NotSoapEnvelope('The Envelope must hold exactly one Body, after the Header.');
      if (el.local === 'Body') this.bodySeen = true;
      return;
    }
    const inHeader = this.stack[1]!.local === 'Header';
    if (inHeader) {
      if (depth === 3 && el.uri === this.contract.namespace && el.local === AUTH_HEADER) this.header = {};
      else if (depth === 3 && el.uri === WSSE_NS && el.local === 'Security') this.security = { start: el.start, others: 0 };
      else if (depth === 4 && this.header && parent!.local === AUTH_HEADER) this.collecting = '';
      else if (depth === 4 && this.security && parent!.local === 'Security') {
        if (el.uri === WSSE_NS && el.local === 'UsernameToken') this.usernameToken = { carrier: 'ws-security' };
        else this.security.others++;
      } else if (depth === 5 && this.usernameToken && parent!.local === 'UsernameToken') {
        if (el.local === 'Password') {
          const type = Object.values(tag.attributes).find((a) => a.local === 'Type')?.value;
          if (type !== undefined && type !== PASSWORD_TEXT) this.usernameToken.unsupportedPasswordType = true;
        }
        this.collecting = '';
      }
      return;
    }
    // Body: its first element names the operation; the operation's first element may be its credential parameter
    if (depth === 3) {
      if (this.result.operation !== '') throw new NotSoapEnvelope('The SOAP Body must hold exactly one operation.');
      this.result.operation = el.local;
      this.result.operationNs = el.uri;
      return;
    }
    if (depth === 4 && isCredentialParameter(el.local)) {
      this.collecting = '';
      return;
    }
    throw DONE;
  }

  private close(tag: SaxesTagNS): void {
    const el = this.stack.pop()!;
    const depth = this.stack.length + 1;
    const end = this.parser.position;
    // saxes reports a mismatched close tag only after closing the open ones for it: check it first.
    if (!el.selfClosing && this.text.slice(this.text.lastIndexOf('</', end - 1) + 2, end - 1).trim() !== tag.name) throw new XmlMalformed();
    const value = (this.collecting ?? '').trim();
    this.collecting = undefined;
    // An operation without parameters (a public one, or a call without its credential) is read to
    // the Envelope's end, so nothing can follow it unjudged; the message is small, within the preamble.
    if (depth === 1) throw DONE;
    if (depth === 2) return;
    const inHeader = this.stack[1]?.local === 'Header';
    if (inHeader) {
      if (depth === 4 && this.header && this.stack[2]!.local === AUTH_HEADER) {
        if (tag.local === 'apiToken' || tag.local === 'organizationKey' || tag.local === 'userLoginName') this.header[tag.local] = value;
      } else if (depth === 3 && this.header && el.local === AUTH_HEADER) {
        this.result.credentials.push({ carrier: 'soap-header', ...this.header });
        this.charCuts.push([el.start, end]);
        this.header = undefined;
      } else if (depth === 5 && this.usernameToken) {
        if (el.local === 'Username') this.usernameToken.userLoginName = value;
        if (el.local === 'Password') this.usernameToken.apiToken = value;
      } else if (depth === 4 && this.security && this.usernameToken && el.local === 'UsernameToken') {
        this.security.token = this.usernameToken;
        this.security.tokenRange = [el.start, end];
        this.usernameToken = undefined;
      } else if (depth === 3 && this.security && el.local === 'Security') {
        const { token, tokenRange, others, start } = this.security;
        if (token && tokenRange) {
          this.result.credentials.push(token);
          // A Security header holding nothing but the UsernameToken goes whole; otherwise only the token.
          this.charCuts.push(others === 0 ? [start, end] : tokenRange);
        }
        this.security = undefined;
      }
      return;
    }
    if (depth === 4 && isCredentialParameter(el.local)) {
      const contentEnd = el.selfClosing ? el.contentStart : this.text.lastIndexOf('<', end - 1);
      if (value !== '') {
        this.result.credentials.push(readCredentialParameter(el.local, value));
        this.charCuts.push([el.contentStart, contentEnd]);
      }
      throw DONE;
    }
    // The operation closed without parameters: read on to the Envelope's end (above)
  }
}

/**
 * A first parameter named like a credential parameter of any operation is read and cut, whatever
 * the operation: a token sent to a public operation, or under the other operations' name, must
 * not reach the upstream either. The contract decides only whether the operation needs one.
 */
function isCredentialParameter(local: string): local is CredentialParameter {
  return (CREDENTIAL_PARAMETERS as readonly string[]).includes(local);
}

/**
 * authorizationXml holds an escaped `<authorization>` element; userToken (UploadUserFile_v1) the
 * token itself, or the same element. Something else is a malformed credential, refused as such
 * in the operation's answer rather than as a broken message.
 */
function readCredentialParameter(parameter: CredentialParameter, value: string): FoundCredential {
  const carrier: Carrier = parameter === 'userToken' ? 'user-token' : 'authorization-xml';
  if (carrier === 'user-token' && !value.startsWith('<')) return { carrier, apiToken: value };
  try {
    return { carrier, ...parseAuthorizationXml(value) };
  } catch (e) {
    if (e instanceof GatehouseError) return { carrier, malformed: true };
    throw e;
  }
}

export interface Preamble {
  scan: ScanResult;
  /** The bytes read so far (the original preamble, before cutting). */
  bytes: Buffer;
  /** The request body ended within the preamble. */
  ended: boolean;
}

/**
 * Reads the request only until the scan finishes; the stream is left paused at that point so the
 * untouched remainder can be piped on. Rejects with a GatehouseError to refuse.
 */
export function readPreamble(body: Readable, limits: ScanLimits, contract: ServiceContract): Promise<Preamble> {
  const scanner = new EnvelopeScanner(limits, contract);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('aborted', onError);
    };
    const settle = (ended: boolean, scan: ScanResult) => {
      cleanup();
      if (!ended) body.pause();
      resolve({ scan, bytes: Buffer.concat(chunks), ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      try {
        const scan = scanner.push(chunk);
        if (scan) settle(body.readableEnded, scan);
      } catch (e) {
        cleanup();
        body.pause();
        reject(e);
      }
    };
    const onEnd = () => {
      try {
        settle(true, scanner.end());
      } catch (e) {
        cleanup();
        reject(e);
      }
    };
    const onError = (e: unknown) => {
      cleanup();
      reject(e instanceof Error ? e : new Error('request aborted'));
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('aborted', onError);
  });
}
