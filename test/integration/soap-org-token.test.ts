// Organization tokens on SOAP, in a deployment that turns `orgTokens.allowSoap` on for a legacy
// migration: the same checks as REST (token, flag, acting user), with the SOAP carriers, answered
// in the platform's failure form (baseResult failed); never forwarded. (With the setting off they are refused: soap-gateway.test.ts.)
import * as soap from 'soap';
import { beforeAll, describe, expect, it } from 'vitest';
import { TNS } from '../../src/soap/protocol.js';
import { OrgTokenAdmin } from '../../src/store/org-token-admin.js';
import { judgeOrgTokenManagement } from '../../src/policy/org-token.js';
import { seedUser, TEST_ACTOR } from '../helpers/fixtures.js';
import { useGateway } from '../helpers/use-gateway.js';

const { ts, gw, users: { manager, colleague } } = useGateway({
  overrides: { orgTokens: { allowSoap: true } },
  users: { manager: { org: 'acme', features: ['OrganizationApiToken'] }, colleague: { org: 'acme' } },
});
let orgToken: string;

beforeAll(async () => {
  orgToken = (await new OrgTokenAdmin(ts.store.db, judgeOrgTokenManagement).create(TEST_ACTOR, manager.login, 'Legacy SOAP', { enabled: true })).secret;
  await gw.gateway.follower.poll();
});

const header = (login?: string) =>
  `<AuthorizationHeader xmlns="${TNS}"><organizationKey>${orgToken}</organizationKey>${login ? `<userLoginName>${login}</userLoginName>` : ''}</AuthorizationHeader>`;
const field = (result: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(result)?.[1];

async function errorOf(call: Promise<[{ SendEnvelope_v1Result: string }, string]>): Promise<string> {
  const [out, raw] = await call;
  expect(raw).not.toContain(orgToken);
  expect(field(out.SendEnvelope_v1Result, 'baseResult')).toBe('failed');
  return field(out.SendEnvelope_v1Result, 'error') ?? 'no errorInfo';
}

describe('organization tokens on SOAP with orgTokens.allowSoap', () => {
  it.each(['1.1', '1.2'])('act for a colleague through the header element (SOAP %s)', async (version) => {
    const c = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`, { forceSoap12Headers: version === '1.2' });
    c.addSoapHeader(header(colleague.login));
    const [out] = await c.SendEnvelope_v1Async({ envelopeDescriptionXml: 'x' });
    expect(field(out.SendEnvelope_v1Result, 'loginName')).toBe(colleague.login);
  });

  it('act for a colleague through the legacy authorizationXml', async () => {
    const c = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    const authorizationXml = `<authorization><organizationKey>${orgToken}</organizationKey><userLoginName>${colleague.login}</userLoginName></authorization>`;
    const [out] = await c.SendEnvelope_v1Async({ authorizationXml, envelopeDescriptionXml: 'x' });
    expect(field(out.SendEnvelope_v1Result, 'loginName')).toBe(colleague.login);
  });

  it('are refused without a login name, for a stranger, and once the flag is off', async () => {
    const stranger = await seedUser(ts.store);
    for (const [login, expected] of [[undefined, 'OrgTokenLoginMissing'], [stranger.login, 'ActingUserNotAllowed']] as const) {
      const c = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
      c.addSoapHeader(header(login));
      expect(await errorOf(c.SendEnvelope_v1Async({ envelopeDescriptionXml: 'x' }))).toBe(expected);
    }
    await ts.store.admin.setOrganizationFeature(TEST_ACTOR, manager.org, 'OrganizationApiToken', false);
    await gw.gateway.follower.poll();
    const c = await soap.createClientAsync(`${gw.url}/api.asmx?wsdl`);
    c.addSoapHeader(header(colleague.login));
    expect(await errorOf(c.SendEnvelope_v1Async({ envelopeDescriptionXml: 'x' }))).toBe('FeatureFlagMissing');
  });
});
