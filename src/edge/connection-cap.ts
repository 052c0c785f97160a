// edge/: at most `http.maxConnectionsPerIp` open connections per peer address (issue 19 item 4:
// 500 idle connections from one address were accepted). Counted when a connection is accepted,
// on the peer address — the only one known then: the client behind a proxy is named in a header
// of a request that has not come yet, so peers in `http.trustedProxies` (and the forward-auth
// edges) are not counted at all, or a proxy carrying many clients would be cut. IPv6 peers count
// per /64, the block one host is usually given (per address, a host would have 2^64 of them).
// Over the cap the connection is closed at once, before a byte is read: no parser, no timeout,
// nothing held — a 429 would first have to read a request the cap exists to refuse, for up to
// `http.headersTimeoutMs`. Counted in gatehouse_connections_refused_total{reason="per-address-limit"}.
// Per connection, not per request: a map update at accept and at close.
import type { Server } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import proxyAddr from 'proxy-addr';
import { connectionsRefused } from '../observability/metrics.js';

/** What a peer address is counted under: an IPv4 address (also when IPv4-mapped), or an IPv6 /64. */
export function addressKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const groups = head ? head.split(':') : [];
  if (tail !== undefined) {
    const rest = tail ? tail.split(':') : [];
    groups.push(...Array<string>(8 - groups.length - rest.length).fill('0'), ...rest);
  }
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Caps the open connections per peer address of `server`; `exempt`: addresses or CIDR ranges never counted. */
export function capConnectionsPerAddress(server: Server, maxPerAddress: number, exempt: readonly string[]): void {
  if (maxPerAddress <= 0) return;
  const isExempt = proxyAddr.compile([...exempt]);
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || isExempt(address, 0)) return;
    const key = addressKey(address);
    const count = (open.get(key) ?? 0) + 1;
    if (count > maxPerAddress) {
      connectionsRefused.inc({ reason: 'per-address-limit' });
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
