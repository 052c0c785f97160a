import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { bundledWsdl, isWsdlQuery, wsdlServer, wsdlSource, type WsdlSource } from './wsdl.js';

const logger = createLogger({ level: 'silent' });

async function listen(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

async function get(serve: ReturnType<typeof wsdlServer>, host: string) {
  const s = await listen((req, res) => serve(req, res, '/api.asmx'));
  try {
    // node:http, not fetch: fetch will not send a Host header of the caller's choosing
    return await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: new URL(s.url).port, path: '/api.asmx?wsdl', headers: { Host: host } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
  } finally {
    await s.close();
  }
}

let sources: WsdlSource[] = [];
afterEach(() => {
  for (const s of sources) s.stop();
  sources = [];
});

describe('WSDL serving', () => {
  it('recognises ?wsdl in any case', () => {
    expect(['?wsdl', '?WSDL', '?Wsdl=', '?wsdl&x=1'].every(isWsdlQuery)).toBe(true);
    expect(['', '?wsdlx', '?x=1&wsdl', '?disco'].some(isWsdlQuery)).toBe(false);
  });

  it('points soap:address and soap12:address at the public URL, whatever the Host header says', async () => {
    const source = { current: () => bundledWsdl() };
    const text = await get(wsdlServer(source, () => 'https://gatehouse.example.test/'), 'evil.example.test');
    expect(text.match(/location="[^"]*"/g)).toEqual(['location="https://gatehouse.example.test/api.asmx"', 'location="https://gatehouse.example.test/api.asmx"']);
    expect(text).not.toContain('evil.example.test');
  });
});

describe('the WSDL source', () => {
  it("serves the upstream's own WSDL when it publishes one, and keeps it when a refresh fails", async () => {
    const extra = bundledWsdl().text.replace(/GetVersion_v1/g, 'GetVersion_v9');
    let answer: 'wsdl' | 'error' = 'wsdl';
    const up = await listen((req, res) => {
      expect(req.url).toBe('/api.asmx?wsdl');
      if (answer === 'error') return void res.writeHead(500).end();
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(extra);
    });
    try {
      const source = wsdlSource({ upstreamWsdlUrl: `${up.url}/api.asmx?wsdl`, refreshSeconds: 0, timeoutMs: 2000, logger });
      sources.push(source);
      expect(source.current().contract.operations.has('GetVersion_v1')).toBe(true);
      await source.start();
      expect(source.current().origin).toBe(`${up.url}/api.asmx?wsdl`);
      expect(source.current().contract.operations.has('GetVersion_v9')).toBe(true);
      expect(source.current().contract.operations.has('GetVersion_v1')).toBe(false);
      answer = 'error';
      await source.start();
      expect(source.current().contract.operations.has('GetVersion_v9')).toBe(true);
    } finally {
      await up.close();
    }
  });

  it('falls back to wsdl/Api.wsdl when the upstream has none, is down, or sends no WSDL', async () => {
    const notFound = await listen((_req, res) => res.writeHead(404).end());
    const garbage = await listen((_req, res) => res.writeHead(200).end('<html/>'));
    try {
      for (const url of [`${notFound.url}/api.asmx?wsdl`, `${garbage.url}/api.asmx?wsdl`, 'http://127.0.0.1:1/api.asmx?wsdl']) {
        const source = wsdlSource({ upstreamWsdlUrl: url, refreshSeconds: 0, timeoutMs: 2000, logger });
        sources.push(source);
        await source.start();
        expect(source.current().origin).toMatch(/wsdl\/Api\.wsdl$/);
        expect(source.current().contract.operations.size).toBe(21);
      }
    } finally {
      await notFound.close();
      await garbage.close();
    }
  });
});
