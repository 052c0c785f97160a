// pipeline/: the response headers that tell a caller its credential is going away, computed once
// from config: `Deprecation` (RFC 9745 §2.1: `@` + Unix seconds, a Structured Field Date),
// `Sunset` (RFC 8594 §3: an HTTP-date) and `Link` (RFC 8288) with rel="deprecation" (RFC 9745 §3).
export interface DeprecationOptions {
  deprecatedSince: string;
  sunset: string;
  migrationDocsUrl: string;
}

export type DeprecationHeaders = Readonly<Record<'Deprecation' | 'Sunset' | 'Link', string>>;

export function deprecationHeaders(opts: DeprecationOptions): DeprecationHeaders {
  return Object.freeze({
    Deprecation: `@${Math.floor(Date.parse(opts.deprecatedSince) / 1000)}`,
    Sunset: new Date(opts.sunset).toUTCString(),
    Link: `<${encodeURI(decodeURI(opts.migrationDocsUrl))}>; rel="deprecation"; type="text/html"`,
  });
}
