// NAIVE: what a team writes in an afternoon — Express + http-proxy-middleware with a Map lookup.
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';

const [, , port, target, ...tokens] = process.argv;
const valid = new Map(tokens.map((t) => [t, { user: 'bench' }]));
const app = express();
app.use('/Api', (req, res, next) => {
  if (req.path.endsWith('/version')) return next();
  const who = valid.get(req.get('apiToken'));
  if (!who) return res.status(401).json({ ErrorId: 'Unauthorized', Message: 'bad token' });
  req.headers['x-user'] = who.user;
  delete req.headers.apitoken;
  next();
});
app.use(createProxyMiddleware({ target, changeOrigin: true, pathFilter: '/Api' }));
app.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
