// The scope vocabulary's one inclusion: `api` (everything the user may do) includes `api:read`.
import { describe, expect, it } from 'vitest';
import { scopeIncludes } from './authorize-request.js';

describe('scopeIncludes', () => {
  it('a scope includes itself, and api includes api:read', () => {
    expect(scopeIncludes('api', 'api')).toBe(true);
    expect(scopeIncludes('api', 'api:read')).toBe(true);
    expect(scopeIncludes('api:read', 'api:read')).toBe(true);
    expect(scopeIncludes('api api:read', 'api:read')).toBe(true);
  });

  it('api:read does not include api, and unknown scopes are included by nothing', () => {
    expect(scopeIncludes('api:read', 'api')).toBe(false);
    expect(scopeIncludes('api', 'api:write')).toBe(false);
    expect(scopeIncludes('api', '')).toBe(false);
    expect(scopeIncludes('api', 'constructor')).toBe(false);
    expect(scopeIncludes('constructor', 'api:read')).toBe(false);
  });
});
