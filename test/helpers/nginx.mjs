// Debian's nginx with the shipped forward-auth config (config/nginx/gatehouse-forward-auth.conf),
// for the nginx suite (test/integration/forward-auth-nginx.test.ts) and the benchmark (run.mjs).
// The shipped server block is used as it is; only its `listen` line and its two upstream `server`
// lines are replaced, and it is wrapped in a minimal nginx.conf of the caller's directory.
// Plain JavaScript, so the benchmark's .mjs scripts import it as well as the TypeScript suites.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NGINX = '/usr/sbin/nginx';
export const SHIPPED = fileURLToPath(new URL('../../config/nginx/gatehouse-forward-auth.conf', import.meta.url));

/** Replaces exactly one occurrence, or throws: a template line the shipped file no longer has. */
function replaceOnce(text, pattern, replacement) {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'));
  if (!matches || matches.length !== 1) throw new Error(`config/nginx template: ${pattern} matched ${matches?.length ?? 0} times`);
  return text.replace(pattern, replacement);
}

/**
 * The shipped server block with `listen`, the Gatehouse and the platform upstreams replaced.
 * @param {{ port: number, gatehouse: string, platform: string, bind?: string }} o
 *   gatehouse / platform: `host:port`; bind: the local address nginx connects from (proxy_bind).
 */
export function renderServerBlock(o) {
  let conf = readFileSync(SHIPPED, 'utf8');
  conf = replaceOnce(conf, /^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${o.port};${o.bind ? `\n$1proxy_bind ${o.bind};` : ''}`);
  conf = replaceOnce(conf, /^(\s*)server gatehouse:8080;$/m, `$1server ${o.gatehouse};`);
  conf = replaceOnce(conf, /^(\s*)server platform-api:80;$/m, `$1server ${o.platform};`);
  return conf;
}

/**
 * A whole nginx.conf around the server block: one process in the foreground, its pid, logs and
 * temporary files under `dir`.
 * @param {string} dir
 * @param {string} serverBlock
 * @param {{ accessLog?: boolean }} [opts]
 */
export function wrapConfig(dir, serverBlock, opts = {}) {
  return `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${opts.accessLog ? `${dir}/access.log` : 'off'};
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${serverBlock}
}
`;
}

/** Installs nginx-light with apt when it is missing (the CI does it in .ci/run); true when nginx is there. */
export function ensureNginx() {
  if (existsSync(NGINX)) return true;
  spawnSync('apt-get', ['install', '-y', '-qq', 'nginx-light'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return existsSync(NGINX);
}

/** `nginx -t` on a config file: null when valid, else nginx's complaint. */
export function checkConfig(file) {
  const r = spawnSync(NGINX, ['-t', '-c', file], { encoding: 'utf8' });
  return r.status === 0 ? null : `${r.stdout}${r.stderr}`;
}

// setpriv --pdeathsig KILL: nginx dies with the test process even when that one is killed outright.
const WRAPPER = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true']).status === 0 ? ['setpriv', '--pdeathsig', 'KILL'] : [];
const running = new Set();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Writes `conf` (from wrapConfig) to `<dir>/nginx.conf` with the directories it names; throws what `nginx -t` says against it. */
export function writeConfig(dir, conf) {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const invalid = checkConfig(file);
  if (invalid) throw new Error(`nginx -t: ${invalid}`);
  return file;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Writes `conf` to `<dir>/nginx.conf`, starts nginx on it and resolves once `port` accepts
 * connections. `stop()` kills it and resolves when it has exited.
 * @param {{ dir: string, conf: string, port: number }} o
 */
export async function startNginx(o) {
  const file = writeConfig(o.dir, o.conf);
  const [cmd, ...pre] = [...WRAPPER, NGINX];
  const proc = spawn(cmd, [...pre, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${stderr}`);
    if (await accepts(o.port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${o.port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc,
    url: `http://127.0.0.1:${o.port}`,
    errorLog: () => (existsSync(join(o.dir, 'error.log')) ? readFileSync(join(o.dir, 'error.log'), 'utf8') : ''),
    async stop() {
      running.delete(proc);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
