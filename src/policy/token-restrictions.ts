// policy/: may this restricted user API token (issue 20) make this call? Pure over what the call
// needs (permissions/rest-map.ts, soap-map.ts), its API version and the client address (honouring
// `http.trustedProxies`), and the restrictions that travel in the token's cached record: no I/O.
// Judged after the token and its user were found valid, so a restriction never widens what the
// user's roles allow — the effective right is their intersection. Order: network, version,
// permissions (where a call comes from is the first thing a leaked token's finder cannot change).
// /!\ Hot path.
import { TokenRestricted } from '../outcomes/errors.js';
import { addressInNetworks, grantsOfRestrictions, type TokenRestrictions } from '../permissions/restrictions.js';
import { ANY_TOKEN, FAMILY_WORDS, grantsAllow, needName, type Need } from '../permissions/vocabulary.js';

export function judgeTokenRestrictions(
  restrictions: TokenRestrictions | null | undefined,
  need: Need | undefined,
  version: number | 'soap',
  clientIp: string,
): TokenRestricted | null {
  if (!restrictions) return null;
  if (restrictions.networks && !addressInNetworks(clientIp, restrictions.networks)) {
    return new TokenRestricted('network', 'This API token may not be used from this network: the client address is outside the networks it is restricted to.');
  }
  // SOAP has one version line of its own: the ceiling is on REST versions
  if (restrictions.maxVersion !== undefined && version !== 'soap' && version > restrictions.maxVersion) {
    return new TokenRestricted('version', `This API token is restricted to API version ${restrictions.maxVersion} and earlier.`);
  }
  if (restrictions.permissions) {
    // Fail closed: a call the vocabulary does not name is not one a restricted token was given
    if (need === undefined) return new TokenRestricted('unmapped', 'This API token is restricted to some permissions, and this call is not covered by any: use an unrestricted token.');
    if (need !== ANY_TOKEN && !grantsAllow(grantsOfRestrictions(restrictions), need)) {
      const verb = need.access === 'write' ? 'change' : 'read';
      return new TokenRestricted(needName(need), `This API token may not ${verb} ${FAMILY_WORDS[need.family].plural}: it needs the ${needName(need)} permission.`);
    }
  }
  return null;
}
