// proxy/: path normalization (DESIGN.md §3.5, RFC 3986 §6.2.2 and §5.2.4). The normalized path
// is both what policy judges and what is forwarded, so no encoding trick can make the two differ.
// /!\ Hot path.

export type NormalizedPath = { ok: true; path: string; query: string } | { ok: false };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// Encoded slash or backslash, a literal backslash, NUL or other control characters: refused
// outright, because upstream servers disagree on what they mean. So are path parameters (`;`,
// encoded or not: Tomcat/Spring resolve `/v5/..;/..;/v6/x` to v6) and an encoded `%` (`%252e`
// is `%2e` to an upstream that decodes once more): what policy judged must be what is forwarded.
const REFUSED = /%2f|%5c|\\|%00|[\x00-\x1f\x7f]|%[01][0-9a-f]|%7f|;|%3b|%25/i;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : escape.toUpperCase();
  });
}

/** RFC 3986 §5.2.4, on a path that starts with "/"; also folds runs of slashes into one. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else if (seg === '.') {
      if (last) out.push('');
    } else if (seg !== '' || last) {
      out.push(seg);
    }
  });
  return '/' + out.join('/');
}

export function normalizePath(rawUrl: string): NormalizedPath {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (!rawPath.startsWith('/') || REFUSED.test(rawPath) || BAD_ESCAPE.test(rawPath)) return { ok: false };
  // Fast path: nothing to decode and no dot or empty segments.
  if (!rawPath.includes('%') && !rawPath.includes('/.') && !rawPath.includes('//')) {
    return { ok: true, path: rawPath, query };
  }
  return { ok: true, path: removeDotSegments(decodeUnreserved(rawPath)), query };
}
