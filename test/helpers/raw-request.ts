// One HTTP request with the path sent exactly as written (no client-side normalization, unlike
// fetch), on a fresh connection; the answer with its body, the body parsed as JSON when it is,
// and the raw header lines.
import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  raw: string[];
}

export interface RawRequestOptions {
  method?: string;
  body?: string | Buffer;
  /** Local address to send from (e.g. another 127.0.0.x, to be another client). */
  from?: string;
}

export function rawRequest(base: string, path: string, headers: Record<string, string> = {}, opts: RawRequestOptions = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: opts.method ?? 'GET', headers, agent: false, localAddress: opts.from }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json: any;
        try {
          json = JSON.parse(body);
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, raw: res.rawHeaders });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
