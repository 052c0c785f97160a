// sample-upstream/: a small envelope/template/file service for trying Gatehouse out and for the
// tests. It trusts nothing but a valid X-Gatehouse-Identity (401 without it; only `version` is
// public) and echoes the identity it was told, so a caller sees exactly what the platform would
// see. It answers every resource: envelope, template and file with sample records,
// `authorization` with who the caller is, any other with an echo of the call.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyIdentity, IDENTITY_HEADER, type IdentityClaims } from '../proxy/identity.js';
import { sampleSoapHandler } from './soap.js';

export interface SampleUpstreamOptions {
  identitySecret: string;
  issuer: string;
  audience: string;
  host?: string;
  port?: number;
}

export const SAMPLE_VERSION = '26.11.0-sample';
const ROUTE = /^\/Api\/v(\d+)\/([^/?]+)(?:\/([^/?]*))?/i;
const SOAP_PATH = /^\/api\.asmx(?:\?|$)/i;

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the body as a stream: counts and hashes it without holding it. */
function digestBody(req: IncomingMessage): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    req.on('error', reject);
  });
}

function describeCaller(claims: IdentityClaims, req: IncomingMessage) {
  return {
    UserId: claims.sub,
    OrganizationId: claims.org,
    LoginName: claims.login,
    AuthKind: claims.kind,
    TokenId: claims.tid,
    Scope: claims.scope,
    // The effective permissions (issue 20): what a platform behind the gateway would check again
    Permissions: claims.perms,
    RequestId: req.headers['x-request-id'],
    // Names only: lets a caller check that no credential header arrived here.
    ReceivedHeaders: Object.keys(req.headers).sort(),
  };
}

export function sampleUpstreamHandler(opts: SampleUpstreamOptions) {
  const soap = sampleSoapHandler(opts);
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && SOAP_PATH.test(req.url ?? '')) return soap(req, res);
    const m = ROUTE.exec(req.url ?? '');
    if (!m) return json(res, 404, { ErrorId: 'NotFound', Message: 'No such resource.' });
    const [, version, resource, id] = m;
    if (resource!.toLowerCase() === 'version') return json(res, 200, { Version: SAMPLE_VERSION, ApiVersion: `v${version}` });

    const header = req.headers[IDENTITY_HEADER];
    let claims: IdentityClaims;
    try {
      if (typeof header !== 'string') throw new Error('missing');
      claims = verifyIdentity(header, { secret: opts.identitySecret, issuer: opts.issuer, audience: opts.audience });
    } catch {
      req.resume();
      return json(res, 401, { ErrorId: 'IdentityMissing', Message: 'A verified X-Gatehouse-Identity is required.' });
    }
    const caller = describeCaller(claims, req);
    const apiVersion = `v${version}`;
    // What arrived, so a test sees that this very call was forwarded (and where)
    const echo = () => ({ Resource: resource, Method: req.method, Path: (req.url ?? '').split('?')[0], ApiVersion: apiVersion, CalledBy: caller });

    if (req.method === 'POST' || req.method === 'PUT') {
      const body = await digestBody(req);
      return json(res, 200, { ...echo(), Received: { Bytes: body.bytes, Sha256: body.sha256 } });
    }
    switch (resource!.toLowerCase()) {
      // The platform's credential check (the public Python and PHP clients call it first): who you are
      case 'authorization':
        return json(res, 200, { UserId: claims.sub, OrganizationId: claims.org, LoginName: claims.login, AuthKind: claims.kind, ApiVersion: apiVersion, CalledBy: caller });
      case 'envelope':
      case 'envelopes':
        return json(res, 200, { EnvelopeId: id ?? null, Name: `Sample envelope ${id ?? ''}`.trim(), Status: 'Active', ApiVersion: `v${version}`, CalledBy: caller });
      case 'template':
      case 'templates':
        return json(res, 200, { TemplateId: id ?? null, Name: `Sample template ${id ?? ''}`.trim(), ApiVersion: `v${version}`, CalledBy: caller });
      case 'file':
      case 'files':
        return json(res, 200, { FileId: id ?? null, ApiVersion: `v${version}`, CalledBy: caller });
      default:
        return json(res, 200, echo());
    }
  };
}

export async function startSampleUpstream(opts: SampleUpstreamOptions): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  const handler = sampleUpstreamHandler(opts);
  const server = http.createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = 65_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
