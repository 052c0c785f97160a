import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isWsdlQuery, wsdlServer } from './wsdl.js';

async function get(serve: ReturnType<typeof wsdlServer>, host: string) {
  const server = http.createServer((req, res) => serve(req, res, '/api.asmx'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    // node:http, not fetch: fetch will not send a Host header of the caller's choosing
    return await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/api.asmx?wsdl', headers: { Host: host } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('WSDL serving', () => {
  it('recognises ?wsdl in any case', () => {
    expect(['?wsdl', '?WSDL', '?Wsdl=', '?wsdl&x=1'].every(isWsdlQuery)).toBe(true);
    expect(['', '?wsdlx', '?x=1&wsdl', '?disco'].some(isWsdlQuery)).toBe(false);
  });

  it('points soap:address at the configured public URL', async () => {
    const text = await get(wsdlServer({ publicUrl: 'https://gatehouse.example.test/' }), 'ignored.test');
    expect(text.match(/location="[^"]*"/g)).toEqual(['location="https://gatehouse.example.test/api.asmx"', 'location="https://gatehouse.example.test/api.asmx"']);
  });

  it('falls back to the request Host, and never echoes a hostile one', async () => {
    expect(await get(wsdlServer({ publicUrl: '' }), 'gw.example.test:8443')).toContain('location="http://gw.example.test:8443/api.asmx"');
    expect(await get(wsdlServer({ publicUrl: '' }), 'evil"><x')).toContain('location="http://localhost/api.asmx"');
  });
});
