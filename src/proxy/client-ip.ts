// proxy/: who the client is. `X-Forwarded-For` (and -Proto, -Host) are believed only when the
// peer is one of the configured `http.trustedProxies` (proxy-addr's rules: addresses and CIDR
// ranges, the chain walked right to left); otherwise the peer address is the client and any
// client-sent X-Forwarded-* is dropped before forwarding (forward.ts).
// /!\ Hot path.
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export interface ClientAddress {
  /** The client address used for abuse limits and logs. */
  ip(req: IncomingMessage): string;
  /** Whether the direct peer is a trusted proxy, so its X-Forwarded-* may be passed on. */
  fromTrustedProxy(req: IncomingMessage): boolean;
}

export function clientAddress(trustedProxies: readonly string[]): ClientAddress {
  if (trustedProxies.length === 0) {
    return { ip: (req) => req.socket.remoteAddress ?? 'unknown', fromTrustedProxy: () => false };
  }
  const trust = proxyAddr.compile([...trustedProxies]);
  return {
    ip: (req) => proxyAddr(req, trust),
    fromTrustedProxy: (req) => trust(req.socket.remoteAddress ?? '', 0),
  };
}
