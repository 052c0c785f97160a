// soap/: the SOAP surface, read top to bottom:
//   ?wsdl → media type → stream the preamble (extract) → envelope/operation/action checks against
//   the contract read from the served WSDL → shape → resolve → policy (the same
//   authenticateApiToken and rules as REST) → forward the edited preamble plus the untouched rest,
//   with X-Gatehouse-Identity.
// A refusal of a call to a known operation is answered as the platform answers: HTTP 200 and the
// operation's result string with baseResult `failed` (api-result.ts), unless the operator chose
// `soap.refusals: "fault"`; a message that is no such call gets a SOAP Fault (faults.ts).
// /!\ Hot path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Records } from '../cache/records.js';
import { StoreReadFailed } from '../cache/resolver.js';
import { authenticateApiToken } from '../credentials/api-token.js';
import { authenticateBearerJwt, type AccessTokenVerifier } from '../credentials/bearer-jwt.js';
import { looksLikeJwt } from '../oauth/access-token.js';
import type { Authenticated, Principal } from '../credentials/principal.js';
import { TOKEN_PREFIXES } from '../tokens/token-format.js';
import type { RequestContext } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import { CredentialConflict, CredentialMalformed, CredentialMissing, CredentialUnknown, GatehouseError, InternalError, StoreUnavailable } from '../outcomes/errors.js';
import type { AbuseLimits } from '../pipeline/abuse.js';
import type { Forwarder } from '../proxy/forward.js';
import { sendApiResultRefusal } from './api-result.js';
import type { OperationContract, ServiceContract } from './contract.js';
import { MethodNotAllowed, NotSoapEnvelope, OperationUnknown, OrgTokenNotAllowed, PasswordDigestUnsupported, SoapActionMismatch } from './errors.js';
import { sendSoapFault } from './faults.js';
import { actionNamesOperation, ENVELOPE_NS, readSoapRequestHead, versionOfContentType, type SoapVersion } from './protocol.js';
import { readPreamble, type Carrier, type FoundCredential, type ScanLimits } from './scan.js';
import { isWsdlQuery, type wsdlServer } from './wsdl.js';

/** `soap.refusals`: the platform's failure form (default), or SOAP Faults for every refusal. */
export type SoapRefusalStyle = 'apiResult' | 'fault';

/** Organization-token authentication for SOAP: the single hook the org-token work plugs into. */
export type OrgTokenAuthenticator = (cred: { secret: string; organizationKey?: string; userLoginName?: string }, records: Records) => Promise<Authenticated | GatehouseError>;

export interface SoapGatewayDeps {
  limits: ScanLimits;
  records: Records;
  forward: Forwarder;
  upstream: string;
  signIdentity: (p: Principal) => string;
  serveWsdl: ReturnType<typeof wsdlServer>;
  /** The contract of the WSDL being served (it may be refreshed from the upstream). */
  contract: () => ServiceContract;
  refusals: SoapRefusalStyle;
  logger: Logger;
  /** `orgTokens.allowSoap`: organization tokens are refused on SOAP unless the deployment allows them. */
  allowOrgTokens: boolean;
  /** Wired in once organization tokens exist; until then an allowed org token is still refused. */
  authenticateOrgToken?: OrgTokenAuthenticator;
  /** OAuth access tokens in the SOAP token element; absent = not accepted. */
  verifyAccessToken?: AccessTokenVerifier;
  /** Failed-authentication limits and the per-token rate (pipeline/abuse.ts), shared with REST. */
  abuse?: AbuseLimits;
  /** The client address (proxy/client-ip.ts); default the peer address. */
  clientIp?: (req: IncomingMessage) => string;
  /** The credential's "last used", as on REST (memory only on this path). */
  recordUse?: (principal: Principal, ip: string | undefined) => void;
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

export function soapGateway(deps: SoapGatewayDeps) {
  async function authenticate(cred: FoundCredential): Promise<Authenticated | GatehouseError> {
    if (cred.unsupportedPasswordType) return new PasswordDigestUnsupported();
    if (cred.malformed) return new CredentialMalformed('The credential parameter is not a well-formed <authorization> element.');
    const secret = secretOf(cred);
    // Organization token (deprecated): refused on SOAP unless the deployment allows it
    if (cred.organizationKey || secret.startsWith(TOKEN_PREFIXES.organization)) {
      if (!deps.allowOrgTokens || !deps.authenticateOrgToken) return new OrgTokenNotAllowed();
      return deps.authenticateOrgToken({ secret, organizationKey: cred.organizationKey, userLoginName: cred.userLoginName }, deps.records);
    }
    if (cred.apiToken === undefined) return new CredentialMissing();
    // An OAuth access token in the token element: the same edge check as REST; SOAP calls are POSTs.
    if (deps.verifyAccessToken && looksLikeJwt(cred.apiToken)) return authenticateBearerJwt(cred.apiToken, 'POST', deps.verifyAccessToken, deps.records);
    const outcome = await authenticateApiToken(cred.apiToken, deps.records);
    // WS-Security: the Username must name the token's user
    if (
      !(outcome instanceof GatehouseError) &&
      cred.carrier === 'ws-security' &&
      cred.userLoginName?.toLowerCase() !== outcome.principal.loginName.toLowerCase()
    ) {
      return new CredentialUnknown();
    }
    return outcome;
  }

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

    // Shape check, resolve, judge (an operation without a credential parameter, GetVersion_v1, is public: whatever it carries is cut, not judged)
    let identity: string | undefined;
    if (called.credentialParameter) {
      if (!cred) return refuse(new CredentialMissing());
      // Abuse limits: checked before resolving, counted on refusal (the same module as REST)
      const ip = deps.clientIp?.(req) ?? req.socket.remoteAddress ?? 'unknown';
      const secret = secretOf(cred) || undefined;
      const blocked = deps.abuse?.check(ip, secret);
      if (blocked) return refuse(blocked);
      let outcome;
      try {
        outcome = await authenticate(cred);
      } catch (e) {
        if (e instanceof StoreReadFailed) {
          deps.logger.error('store read failed', { requestId: ctx.requestId, error: (e.cause as Error)?.message });
          return refuse(new StoreUnavailable());
        }
        deps.logger.error('unexpected error in the SOAP pipeline', { requestId: ctx.requestId, error: (e as Error).message });
        return refuse(new InternalError());
      }
      if (outcome instanceof GatehouseError) {
        await deps.abuse?.refused(outcome, ip, secret);
        return refuse(outcome);
      }
      const limited = await deps.abuse?.consumeRequest(outcome.principal.tokenId);
      if (limited) return refuse(limited);
      const { principal, tier } = outcome;
      ctx.authKind = principal.authKind;
      ctx.tokenId = principal.tokenId;
      ctx.userId = principal.userId;
      ctx.cacheTier = tier;
      deps.recordUse?.(principal, req.socket.remoteAddress);
      identity = deps.signIdentity(principal);
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
