// soap/: the SOAP surface, read top to bottom:
//   ?wsdl → media type → stream the preamble (extract) → envelope/operation/action checks against
//   the contract read from the served WSDL → the credential's kind → the authenticated-call step
//   REST uses too (pipeline/authenticate-call.ts: abuse limits, shape, resolve, policy, rate,
//   context, last used, identity) → forward the edited preamble plus the untouched rest, with
//   X-Gatehouse-Identity.
// A refusal of a call to a known operation is answered as the platform answers: HTTP 200 and the
// operation's result string with baseResult `failed` (api-result.ts), unless the operator chose
// `soap.refusals: "fault"`; a message that is no such call gets a SOAP Fault (faults.ts).
// /!\ Hot path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import { CredentialConflict, CredentialMalformed, CredentialMissing, GatehouseError, InternalError, OrgTokenLoginMissing } from '../outcomes/errors.js';
import type { AuthenticateCall, PresentedCall } from '../pipeline/authenticate-call.js';
import type { Forwarder } from '../proxy/forward.js';
import type { Need } from '../permissions/vocabulary.js';
import { looksLikeJwt } from '../tokens/access-token-format.js';
import { TOKEN_PREFIXES } from '../tokens/token-format.js';
import { sendApiResultRefusal } from './api-result.js';
import type { OperationContract, ServiceContract } from './contract.js';
import { MethodNotAllowed, NotSoapEnvelope, OperationUnknown, OrgTokenNotAllowed, PasswordDigestUnsupported, SoapActionMismatch } from './errors.js';
import { sendSoapFault } from './faults.js';
import { actionNamesOperation, ENVELOPE_NS, readSoapRequestHead, versionOfContentType, type SoapVersion } from './protocol.js';
import { readPreamble, type Carrier, type FoundCredential, type ScanLimits } from './scan.js';
import { isWsdlQuery, type wsdlServer } from './wsdl.js';

/** `soap.refusals`: the platform's failure form (default), or SOAP Faults for every refusal. */
export type SoapRefusalStyle = 'apiResult' | 'fault';

export interface SoapGatewayDeps {
  limits: ScanLimits;
  forward: Forwarder;
  upstream: string;
  /** The authenticated-call step shared with REST (pipeline/authenticate-call.ts). */
  authenticate: AuthenticateCall;
  serveWsdl: ReturnType<typeof wsdlServer>;
  /** The contract of the WSDL being served (it may be refreshed from the upstream). */
  contract: () => ServiceContract;
  refusals: SoapRefusalStyle;
  logger: Logger;
  /** `orgTokens.allowSoap`: organization tokens are refused on SOAP unless the deployment allows them. */
  allowOrgTokens: boolean;
}

/** First match wins: the SOAP header element, then WS-Security, then authorizationXml. */
const PRECEDENCE: Record<Carrier, number> = { 'soap-header': 0, 'ws-security': 1, 'authorization-xml': 2, 'user-token': 2 };

const secretOf = (c: FoundCredential) => c.apiToken || c.organizationKey || '';

/** The one credential of the message, or a conflict when carriers disagree (DESIGN.md §3.1). */
export function pickCredential(found: readonly FoundCredential[]): FoundCredential | undefined | CredentialConflict {
  const present = found.filter((c) => secretOf(c) !== '' || c.userLoginName || c.malformed);
  if (new Set(present.map(secretOf)).size > 1) return new CredentialConflict();
  return [...present].sort((a, b) => PRECEDENCE[a.carrier] - PRECEDENCE[b.carrier])[0];
}

/** Removes the byte ranges the upstream must not receive. */
export function cutOut(bytes: Buffer, cuts: ReadonlyArray<[number, number]>): { head: Buffer; removed: number } {
  if (cuts.length === 0) return { head: bytes, removed: 0 };
  const parts: Buffer[] = [];
  let at = 0;
  let removed = 0;
  for (const [s, e] of [...cuts].sort((a, b) => a[0] - b[0])) {
    parts.push(bytes.subarray(at, s));
    removed += e - s;
    at = e;
  }
  parts.push(bytes.subarray(at));
  return { head: Buffer.concat(parts), removed };
}

/**
 * For `Expect: 100-continue`: true when the request will be refused whatever its body holds
 * (method, media type, charset), so the Fault can go out instead of 100 Continue.
 */
export function refusedBeforeBody(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false; // GET ?wsdl or a Fault, neither needs the body
  return readSoapRequestHead(req.headers) instanceof GatehouseError;
}

/**
 * The credential of a SOAP message as the authenticated-call step takes it: its kind, and the
 * refusals that belong to the SOAP carriers (a digest password, a malformed authorization element,
 * an organization token where the deployment does not take them, a login name missing).
 */
export function presentedCall(cred: FoundCredential, allowOrgTokens: boolean, need: Need | undefined): PresentedCall {
  const secret = secretOf(cred);
  const hint = secret || undefined;
  const version = 'soap';
  if (cred.unsupportedPasswordType) return { kind: 'api-token', token: new PasswordDigestUnsupported(), loginName: undefined, hint, version, need };
  if (cred.malformed) return { kind: 'none', token: new CredentialMalformed('The credential parameter is not a well-formed <authorization> element.'), hint, version, need };
  // Organization token (deprecated): refused on SOAP unless the deployment allows it
  if (cred.organizationKey || secret.startsWith(TOKEN_PREFIXES.organization)) {
    if (!allowOrgTokens) return { kind: 'org-token', token: new OrgTokenNotAllowed(), hint, version, need };
    const loginName = cred.userLoginName?.trim();
    return { kind: 'org-token', token: loginName ? { carrier: 'organizationKey', secret, loginName } : new OrgTokenLoginMissing(), hint, version, need };
  }
  if (cred.apiToken === undefined) return { kind: 'none', token: new CredentialMissing(), hint, version, need };
  // An OAuth access token in the token element: the same edge check as REST (SOAP calls are POSTs)
  if (looksLikeJwt(cred.apiToken)) return { kind: 'oauth', token: cred.apiToken, hint, version, need };
  // WS-Security: the Username must name the token's user (none named is a mismatch)
  return { kind: 'api-token', token: cred.apiToken, loginName: cred.carrier === 'ws-security' ? (cred.userLoginName ?? '') : undefined, hint, version, need };
}

export function soapGateway(deps: SoapGatewayDeps) {
  // Nothing may escape as an unhandled rejection: an unexpected throw is an InternalError Fault.
  return async function handleSoap(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, path: string, query: string): Promise<void> {
    try {
      await handle(req, res, ctx, path, query);
    } catch (e) {
      deps.logger.error('unexpected error in the SOAP surface', { requestId: ctx.requestId, error: (e as Error).message });
      ctx.errorCode = 'InternalError';
      sendSoapFault(res, versionOfContentType(req.headers['content-type']), new InternalError(), ctx.requestId, true);
      req.resume();
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, path: string, query: string): Promise<void> {
    ctx.surface = 'soap';
    ctx.path = path;
    let version: SoapVersion = versionOfContentType(req.headers['content-type']);
    let bodyRead = false;
    // Set once the message is a call of a known operation: from then on a refusal is that operation's failed result
    let operation: OperationContract | undefined;
    let contract: ServiceContract | undefined;
    const refuse = (err: GatehouseError, asFault = false) => {
      ctx.errorCode = err.code;
      // A refusal before the body's end closes the connection; the rest is drained, not parsed.
      if (operation && contract && !asFault && deps.refusals === 'apiResult') {
        sendApiResultRefusal(res, version, contract.namespace, operation, err, ctx.requestId, !bodyRead);
      } else {
        sendSoapFault(res, version, err, ctx.requestId, !bodyRead);
      }
      if (!bodyRead) req.resume();
    };

    // WSDL
    if ((req.method === 'GET' || req.method === 'HEAD') && isWsdlQuery(query)) return deps.serveWsdl(req, res, path);
    if (req.method !== 'POST') return refuse(new MethodNotAllowed());

    // Media type: SOAP version and action
    const head = readSoapRequestHead(req.headers);
    if (head instanceof GatehouseError) return refuse(head);
    version = head.version;

    // Extract: stream only the preamble, with the contract of the WSDL being served now
    contract = deps.contract();
    let preamble;
    try {
      preamble = await readPreamble(req, deps.limits, contract);
    } catch (e) {
      if (e instanceof GatehouseError) return refuse(e);
      res.destroy(); // the client went away mid-message
      return;
    }
    bodyRead = preamble.ended;
    const { scan } = preamble;
    if (scan.envelopeNs !== ENVELOPE_NS[version]) return refuse(new NotSoapEnvelope());
    const called = scan.operationNs === contract.namespace ? contract.operations.get(scan.operation) : undefined;
    if (!called) return refuse(new OperationUnknown());
    if (!actionNamesOperation(head.action, contract.namespace, called.name, called.soapActions[version])) return refuse(new SoapActionMismatch());
    operation = called;
    ctx.path = `${path}#${called.name}`;
    ctx.upstream = deps.upstream;

    const cred = pickCredential(scan.credentials);
    if (cred instanceof GatehouseError) return refuse(cred);

    // Authenticate the call (an operation without a credential parameter, GetVersion_v1, is public: whatever it carries is cut, not judged)
    let identity: string | undefined;
    if (called.credentialParameter) {
      if (!cred) return refuse(new CredentialMissing());
      const authenticated = await deps.authenticate(req, res, ctx, presentedCall(cred, deps.allowOrgTokens, called.need));
      if (authenticated instanceof GatehouseError) return refuse(authenticated);
      identity = authenticated;
    }

    // Forward: the preamble without its credentials, then the untouched rest
    const { head: body, removed } = cutOut(preamble.bytes, scan.cuts);
    const declared = req.headers['content-length'];
    deps.forward(req, res, {
      requestId: ctx.requestId,
      identity,
      url: path + query,
      body: {
        head: body,
        more: !preamble.ended,
        contentLength: declared !== undefined && /^\d+$/.test(declared) ? Number(declared) - removed : undefined,
      },
      // The upstream did not answer (refused, reset, slow): a Fault, as its absence would be without the gateway
      onError: (err) => {
        bodyRead = false;
        refuse(err, true);
      },
    });
  }
}
