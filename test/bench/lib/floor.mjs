// NODE FLOOR: the leanest Node gateway possible — node:http in, undici's Pool out (the same
// client Gatehouse forwards with), a Map lookup on `apiToken`, nothing else (no logging, metrics,
// policy or header hygiene). Not a product: the bar for what any Node hop can reach here.
import http from 'node:http';
import { Pool } from 'undici';

const [, , port, target, ...tokens] = process.argv;
const valid = new Set(tokens);
const pool = new Pool(target, { connections: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
http
  .createServer((req, res) => {
    if (!valid.has(req.headers.apitoken)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"ErrorId":"Unauthorized"}');
      return;
    }
    const headers = { ...req.headers };
    delete headers.apitoken;
    delete headers.connection;
    delete headers.host;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool.dispatch({ method: req.method, path: req.url, headers, body: hasBody ? req : null }, {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const back = {};
        for (const k in h) if (!HOP.has(k)) back[k] = h[k];
        res.writeHead(status, back);
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
    });
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
