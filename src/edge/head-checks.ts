// edge/: what node:http's parser leaves to us in a request head, judged once for every surface
// before any of them runs (the refusal is answered in the surface's shape by edge/server.ts):
//   - two Host header lines, equal or not → 400 HostInvalid (RFC 9112 §3.2; node keeps the first);
//   - two different Authorization values → 400 CredentialConflict (node keeps the first silently;
//     the same value twice is one credential, as two equal `apiToken` headers are);
//   - a method-override header (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) → 400
//     MethodOverrideRefused. Refused rather than stripped: a client that relies on one would
//     otherwise have its call run as another method than it meant (a POST meant as DELETE, run as
//     a POST), and in forward-auth mode the edge forwards the client's headers itself, so a header
//     Gatehouse cannot strip must be refused. An upstream that honours one would turn a call judged
//     as GET (an `api:read` token) into a write.
// /!\ Hot path: one pass over rawHeaders (about ten names), comparing a name's length before its text.
import type { IncomingMessage } from 'node:http';
import { CredentialConflict, HostInvalid, MethodOverrideRefused, type GatehouseError } from '../outcomes/errors.js';

const isName = (name: string, lower: string) => name === lower || name.toLowerCase() === lower;

/** The refusal of a request head the surfaces must not see, or undefined. */
export function headRefusal(req: IncomingMessage): GatehouseError | undefined {
  const raw = req.rawHeaders;
  let host = false;
  let authorization: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 4: // host
        if (name === 'Host' || isName(name, 'host')) {
          if (host) return new HostInvalid();
          host = true;
        }
        break;
      case 13: // authorization, x-http-method
        if (name === 'Authorization' || isName(name, 'authorization')) {
          const value = raw[i + 1]!.trim();
          if (authorization === undefined) authorization = value;
          else if (value !== authorization) return new CredentialConflict();
        } else if (isName(name, 'x-http-method')) return new MethodOverrideRefused();
        break;
      case 17: // x-method-override
        if (isName(name, 'x-method-override')) return new MethodOverrideRefused();
        break;
      case 22: // x-http-method-override
        if (isName(name, 'x-http-method-override')) return new MethodOverrideRefused();
        break;
    }
  }
  return undefined;
}
