// DIRECT target: the sample upstream, with the identity check switched off for plain load (the
// benchmark measures the gateway's cost, not the upstream's JWT verification).
import http from 'node:http';
import { createHash } from 'node:crypto';

const [, , port] = process.argv;
const small = JSON.stringify({ EnvelopeId: '123', Name: 'Sample envelope 123', Status: 'Active', ApiVersion: 'v6', Recipients: [{ Email: 'signer@example.com', Order: 1 }], Padding: 'x'.repeat(40) });
const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (c) => { n += c.length; h.update(c); });
    req.on('end', () => {
      const body = JSON.stringify({ Bytes: n, Sha256: h.digest('hex') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(small) });
  res.end(small);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
