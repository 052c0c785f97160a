// NGINX + GATEHOUSE AUTH, for run.mjs and forward-auth.mjs: Debian's nginx running the shipped
// config/nginx/gatehouse-forward-auth.conf (test/helpers/nginx.mjs fills in its listen line and
// upstreams) in front of DIRECT, asking a Gatehouse in forward-auth mode about every REST call.
// nginx is pinned to CPU 1 like every server of the bench.
import { NGINX, accepts, renderServerBlock, wrapConfig, writeConfig } from '../../helpers/nginx.mjs';
import { children, startServer } from './processes.mjs';

/** The deciding Gatehouse's config: nginx on loopback is its edge, and forwards the URI it judged. */
export const FORWARD_AUTH_CONFIG = { forwardAuth: { enabled: true, path: '/_gatehouse/auth', edges: ['127.0.0.1'], edgeForwards: 'judged' } };

/** Starts nginx on `port` in front of `directUrl`, deciding with the Gatehouse at `gatehouseUrl`; `{ url, pid }`. */
export async function startNginxAuth({ dir, port, gatehouseUrl, directUrl }) {
  const conf = wrapConfig(dir, renderServerBlock({ port, gatehouse: new URL(gatehouseUrl).host, platform: new URL(directUrl).host }));
  const file = writeConfig(dir, conf);
  // nginx prints nothing when ready: start it, then wait until it accepts connections.
  void startServer('nginx-auth', NGINX, ['-c', file], {}, /never/).catch(() => {});
  const pid = children.at(-1).pid;
  for (let i = 0; i < 100 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { url: `http://127.0.0.1:${port}`, pid };
}
