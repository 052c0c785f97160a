// soap/: the WSDL Gatehouse serves and reads its contract from. The SOAP upstream's own WSDL when
// it publishes one (fetched from `<upstream><soap path>?wsdl` at start, then every
// `soap.wsdlRefreshSeconds`; a failed or unreadable fetch keeps the last good one), else the copy of
// the platform's contract in wsdl/Api.wsdl. Served at `?wsdl` with every soap:address /
// soap12:address location rewritten to the gateway's public URL (`server.publicUrl`, else the URL
// it listens on) — never to the request's Host header, which is client input.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../observability/logger.js';
import { readContract, type ServiceContract } from './contract.js';
import { escapeXml } from './xml-text.js';

export const WSDL_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../wsdl/Api.wsdl');

const ADDRESS = /(<soap(?:12)?:address\s+location=")[^"]*(")/g;
/** A WSDL larger than this is not a service description we will hold. */
const MAX_WSDL_BYTES = 4 * 1024 * 1024;

/** `?wsdl` in any case, alone or with a value (`?WSDL`, `?wsdl=`, `?Wsdl&x`). */
export function isWsdlQuery(query: string): boolean {
  return /^\?wsdl(?:=[^&]*)?(?:&|$)/i.test(query);
}

export interface WsdlDocument {
  text: string;
  contract: ServiceContract;
  /** Where it came from: the upstream's `?wsdl` URL, or the bundled file. */
  origin: string;
}

export interface WsdlSourceOptions {
  /** `<upstream base><soap path>?wsdl`; empty = only the bundled file. */
  upstreamWsdlUrl: string;
  refreshSeconds: number;
  timeoutMs: number;
  logger: Logger;
  file?: string;
}

export interface WsdlSource {
  current(): WsdlDocument;
  /** The first fetch (bounded by `timeoutMs`), then the refresh timer. */
  start(): Promise<void>;
  stop(): void;
}

export function bundledWsdl(file = WSDL_FILE): WsdlDocument {
  const text = readFileSync(file, 'utf8');
  return { text, contract: readContract(text), origin: file };
}

export function wsdlSource(opts: WsdlSourceOptions): WsdlSource {
  let doc = bundledWsdl(opts.file);
  let timer: NodeJS.Timeout | undefined;

  async function refresh(): Promise<void> {
    const url = opts.upstreamWsdlUrl;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'error' });
      if (!res.ok) {
        await res.body?.cancel();
        // No WSDL upstream (the sample upstream publishes none): the bundled contract stands
        if (doc.origin !== url) return;
        throw new Error(`HTTP ${res.status}`);
      }
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > MAX_WSDL_BYTES) throw new Error('larger than 4 MiB');
      const text = await res.text();
      if (Buffer.byteLength(text) > MAX_WSDL_BYTES) throw new Error('larger than 4 MiB');
      if (text === doc.text) return;
      doc = { text, contract: readContract(text), origin: url };
      opts.logger.info('serving the SOAP upstream\'s WSDL', { url, operations: doc.contract.operations.size });
    } catch (e) {
      opts.logger.warn('SOAP upstream WSDL not refreshed; keeping the one in use', { url, origin: doc.origin, error: (e as Error).message });
    }
  }

  return {
    current: () => doc,
    async start() {
      if (!opts.upstreamWsdlUrl) return;
      await refresh();
      if (opts.refreshSeconds > 0) {
        timer = setInterval(() => void refresh(), opts.refreshSeconds * 1000);
        timer.unref();
      }
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Answers `GET|HEAD <soap path>?wsdl` with the current document, addresses rewritten to `publicUrl`. */
export function wsdlServer(source: Pick<WsdlSource, 'current'>, publicUrl: () => string) {
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const location = escapeXml(publicUrl().replace(/\/$/, '') + path);
    const body = source.current().text.replace(ADDRESS, (_m, open: string, close: string) => `${open}${location}${close}`);
    res.writeHead(200, {
      'Content-Type': 'text/xml; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'public, max-age=300',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
