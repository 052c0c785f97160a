// permissions/: the restrictions a user API token may carry (issue 20) — what it may do (permissions
// in the vocabulary), where from (client networks, CIDR, IPv4 and IPv6) and up to which REST API
// version. All optional: a token without them may do everything its user may. They travel in the
// token's cached record, so judging them costs no I/O (policy/token-restrictions.ts).
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ALL_GRANTS, API_VERSIONS, describeGrants, grantsOf, MAX_NETWORKS, parsePermission, permissionNames, PERMISSIONS, type Grants, type Permission } from './vocabulary.js';

export interface TokenRestrictions {
  /** Granted permissions (write implies read); absent = everything the user may do. Sorted, no duplicates. */
  readonly permissions?: readonly Permission[];
  /** Client networks the token may be used from, as canonical CIDR (`203.0.113.0/24`, `2001:db8::/32`); absent = anywhere. */
  readonly networks?: readonly string[];
  /** The highest REST API version it may call (SOAP has no version line and is not limited by it); absent = any. */
  readonly maxVersion?: number;
}

/** Restrictions as people and programs send them (settings API, CLI): to be validated. */
export interface RestrictionsInput {
  permissions?: readonly string[] | null;
  networks?: readonly string[] | null;
  maxVersion?: number | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A CIDR (or a bare address: /32 or /128) → its canonical form; v4-mapped IPv6 networks are taken as IPv4. */
export function canonicalNetwork(text: string): Checked<string> {
  const s = text.trim();
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  // node:net's checks are strict (no `127.1`, no octal): ipaddr.js would take those
  if (!isIPv4(address) && !isIPv6(address)) return { ok: false, message: `network "${s.slice(0, 60)}" is not an IPv4 or IPv6 address or CIDR` };
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(address);
  const max = ip.kind() === 'ipv6' ? 128 : 32;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { ok: false, message: `network "${s.slice(0, 60)}": the prefix length must be a number` };
  let prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return { ok: false, message: `network "${s.slice(0, 60)}": the prefix length is at most ${max}` };
  // ::ffff:203.0.113.0/120 is 203.0.113.0/24: judged as the IPv4 network it names
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() && prefix >= 96) {
    ip = ip.toIPv4Address();
    prefix -= 96;
  }
  const network = ip instanceof ipaddr.IPv4 ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`).toString() : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${prefix}`).toRFC5952String();
  return { ok: true, value: `${network}/${prefix}` };
}

/** Validates and normalizes restrictions; an empty list of permissions is kept (it grants nothing), an empty list of networks refused (no address could call). */
export function checkRestrictions(input: RestrictionsInput | null | undefined): Checked<TokenRestrictions | null> {
  if (!input) return { ok: true, value: null };
  const out: { permissions?: Permission[]; networks?: string[]; maxVersion?: number } = {};
  if (input.permissions != null) {
    if (!Array.isArray(input.permissions)) return { ok: false, message: 'permissions must be a list of names such as envelope:read' };
    for (const p of input.permissions) {
      if (typeof p !== 'string' || !parsePermission(p)) {
        return { ok: false, message: `unknown permission "${String(p).slice(0, 40)}" (known: ${PERMISSIONS.join(', ')})` };
      }
    }
    // Write implies read: envelope:read next to envelope:write says nothing more
    out.permissions = permissionNames(grantsOf(input.permissions));
  }
  if (input.networks != null) {
    if (!Array.isArray(input.networks)) return { ok: false, message: 'networks must be a list of CIDRs such as 203.0.113.0/24' };
    if (input.networks.length > MAX_NETWORKS) return { ok: false, message: `at most ${MAX_NETWORKS} networks` };
    const networks = new Set<string>();
    for (const n of input.networks) {
      if (typeof n !== 'string') return { ok: false, message: 'networks must be a list of CIDRs such as 203.0.113.0/24' };
      const c = canonicalNetwork(n);
      if (!c.ok) return c;
      networks.add(c.value);
    }
    if (networks.size === 0) return { ok: false, message: 'an empty list of networks would refuse every call: leave networks out to allow any address' };
    out.networks = [...networks];
  }
  if (input.maxVersion != null) {
    const v = input.maxVersion;
    if (!Number.isInteger(v) || v < API_VERSIONS.min || v > API_VERSIONS.max) {
      return { ok: false, message: `maxVersion must be a whole number from ${API_VERSIONS.min} to ${API_VERSIONS.max}` };
    }
    out.maxVersion = v;
  }
  return { ok: true, value: Object.keys(out).length === 0 ? null : out };
}

const grantsByList = new WeakMap<readonly Permission[], Grants>();

/** The grants of a token's permissions: everything when it has no permissions restriction. Kept per list (it lives as long as the cached record). */
export function grantsOfRestrictions(r: TokenRestrictions | null | undefined): Grants {
  if (!r?.permissions) return ALL_GRANTS;
  let g = grantsByList.get(r.permissions);
  if (!g) {
    g = grantsOf(r.permissions);
    grantsByList.set(r.permissions, g);
  }
  return g;
}

/** Restrictions in words, for a token's card and the CLI: "Read envelopes and templates · from 203.0.113.0/24 · API v5 and earlier". */
export function describeRestrictions(r: TokenRestrictions | null | undefined): string {
  if (!r) return 'Everything its user may do';
  const parts = [r.permissions ? describeGrants(grantsOf(r.permissions)) : 'Everything its user may do'];
  if (r.networks) parts.push(`from ${r.networks.join(', ')}`);
  if (r.maxVersion !== undefined) parts.push(`API v${r.maxVersion} and earlier`);
  return parts.join(' · ');
}

/** Per network list (it lives as long as the cached record): its parsed form and the verdicts it gave. */
interface NetworkMatcher {
  list: BlockList;
  verdicts: Map<string, boolean>;
}
const matchers = new WeakMap<readonly string[], NetworkMatcher>();
/** A bound, not a policy: a caller spraying source addresses only falls back to BlockList's cost. */
const MAX_VERDICTS = 1_024;

/**
 * Is `ip` (as node:net reports it; IPv4-mapped IPv6 taken as IPv4) inside one of `networks`
 * (canonical CIDRs)? The verdict per address is kept beside the parsed list: BlockList#check builds
 * a native SocketAddress per call (~2 µs, 2% of an L1 hit), a kept verdict costs a Map look-up.
 */
export function addressInNetworks(ip: string, networks: readonly string[]): boolean {
  let m = matchers.get(networks);
  if (!m) {
    const list = new BlockList();
    for (const n of networks) {
      const slash = n.lastIndexOf('/');
      const address = n.slice(0, slash);
      list.addSubnet(address, Number(n.slice(slash + 1)), isIPv6(address) ? 'ipv6' : 'ipv4');
    }
    m = { list, verdicts: new Map() };
    matchers.set(networks, m);
  }
  let inside = m.verdicts.get(ip);
  if (inside === undefined) {
    inside = checkAddress(m.list, ip);
    if (m.verdicts.size >= MAX_VERDICTS) m.verdicts.clear();
    m.verdicts.set(ip, inside);
  }
  return inside;
}

function checkAddress(list: BlockList, ip: string): boolean {
  if (ip.length > 7 && (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:')) && isIPv4(ip.slice(7))) return list.check(ip.slice(7), 'ipv4');
  if (isIPv4(ip)) return list.check(ip, 'ipv4');
  return isIPv6(ip) && list.check(ip, 'ipv6');
}
