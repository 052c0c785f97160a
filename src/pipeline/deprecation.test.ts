import { describe, expect, it } from 'vitest';
import { deprecationHeaders } from './deprecation.js';

describe('deprecationHeaders', () => {
  it('writes RFC 9745, RFC 8594 and RFC 8288 forms', () => {
    expect(
      deprecationHeaders({ deprecatedSince: '2026-07-01T00:00:00Z', sunset: '2027-12-31T23:59:59Z', migrationDocsUrl: 'https://docs.example/migrate' }),
    ).toEqual({
      Deprecation: '@1782864000',
      Sunset: 'Fri, 31 Dec 2027 23:59:59 GMT',
      Link: '<https://docs.example/migrate>; rel="deprecation"; type="text/html"',
    });
  });
});
