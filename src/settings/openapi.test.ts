import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { normalizeScope } from '../oauth/scopes.js';
import { ROLL_OVERLAPS } from '../store/token-lifecycle.js';
import { openApiDocument } from './openapi.js';
import * as wire from './wire.js';

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule;
const ajv = new Ajv2020({ strict: false });
addFormats(ajv);
ajv.addSchema(openApiDocument, 'openapi.json');
const documented = (component: string) => ajv.compile({ $ref: `openapi.json#/components/schemas/${component}` });

const refsIn = (node: unknown): string[] =>
  typeof node !== 'object' || node === null ? [] : Object.entries(node).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsIn(v)));

describe('the settings OpenAPI document', () => {
  it('is generated from wire.ts: one component per registered schema, every $ref resolves, every component is used', () => {
    const schemas = openApiDocument.components.schemas;
    const refs = new Set(refsIn(openApiDocument).filter((r) => r.startsWith('#/components/schemas/')));
    for (const r of refs) expect(schemas, r).toHaveProperty(r.slice('#/components/schemas/'.length));
    for (const name of Object.keys(schemas)) expect(refs, name).toContain(`#/components/schemas/${name}`);
    expect(Object.keys(schemas)).toContain('CreateToken');
    for (const s of Object.values(schemas)) expect(s).not.toHaveProperty('$id');
  });

  // The zod schema validates the body; the document is what a client reads. They must agree.
  it.each<[string, z.ZodType, unknown, boolean]>([
    ['CreateToken', wire.CreateToken, { name: 'CI' }, true],
    ['CreateToken', wire.CreateToken, { name: 'CI', expiresAt: null }, true],
    ['CreateToken', wire.CreateToken, { name: 'CI', expiresAt: '2999-01-31T00:00:00Z' }, true],
    ['CreateToken', wire.CreateToken, { name: '' }, false],
    ['CreateToken', wire.CreateToken, { name: 'x'.repeat(101) }, false],
    ['CreateToken', wire.CreateToken, { name: 'CI', enable: true }, false],
    ['CreateToken', wire.CreateToken, { name: 'CI', expiresAt: 'tomorrow' }, false],
    ['UpdateToken', wire.UpdateToken, { enabled: true }, true],
    ['UpdateToken', wire.UpdateToken, {}, false],
    ['RollToken', wire.RollToken, { oldExpires: '24h' }, true],
    ['RollToken', wire.RollToken, { oldExpires: '2h' }, false],
    ['UpdateOrgToken', wire.UpdateOrgToken, { enabled: 'yes' }, false],
    ['SignIn', wire.SignIn, { login: 'a@example.test', password: 'p' }, true],
    ['SignIn', wire.SignIn, { login: 'a@example.test' }, false],
  ])('%s %j: valid = %s for both the validation and the document', (component, schema, body, valid) => {
    expect(schema.safeParse(body).success).toBe(valid);
    expect(documented(component)(body)).toBe(valid);
  });

  it('names the same roll overlaps and scopes as the rules they mirror', () => {
    expect([...wire.ROLL_OVERLAP_NAMES].sort()).toEqual(Object.keys(ROLL_OVERLAPS).sort());
    // every scope the settings API may list is one the authorization server grants
    for (const scope of wire.SCOPE_NAMES) expect(normalizeScope(scope)).toBe(scope);
  });
});
