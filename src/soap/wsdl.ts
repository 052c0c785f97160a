// soap/: serves wsdl/Api.wsdl at `?wsdl` with every soap:address / soap12:address location
// rewritten to the gateway's public URL (config `server.publicUrl`, else the request's Host),
// so a client generated from it calls the gateway, never the platform behind it.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeXml } from './faults.js';

export const WSDL_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../wsdl/Api.wsdl');

const ADDRESS = /(<soap(?:12)?:address\s+location=")[^"]*(")/g;
/** A Host header is client input: only a plain host[:port] is echoed into the WSDL. */
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** `?wsdl` in any case, alone or with a value (`?WSDL`, `?wsdl=`, `?Wsdl&x`). */
export function isWsdlQuery(query: string): boolean {
  return /^\?wsdl(?:=[^&]*)?(?:&|$)/i.test(query);
}

export function wsdlServer(opts: { publicUrl: string; file?: string }) {
  const template = readFileSync(opts.file ?? WSDL_FILE, 'utf8');
  const fixed = opts.publicUrl ? opts.publicUrl.replace(/\/$/, '') : undefined;

  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const host = req.headers.host;
    const base = fixed ?? `${'encrypted' in req.socket ? 'https' : 'http'}://${host && HOST.test(host) ? host : 'localhost'}`;
    const body = template.replace(ADDRESS, (_m, open: string, close: string) => `${open}${escapeXml(base + path)}${close}`);
    res.writeHead(200, {
      'Content-Type': 'text/xml; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'public, max-age=300',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
