// Real Redis topologies of the test's own, built from Debian's redis-server: a Cluster (3 masters,
// 3 replicas) and a Sentinel group (a primary, a replica, 3 Sentinels). Every process is a child of
// the test process on loopback ports probed free below the kernel's ephemeral range (so they never
// meet the ports other suites get from the kernel), without persistence, in a temporary directory.
// Every wait is bounded, with limits generous enough for a machine loaded by the whole test run
// (a wait ends as soon as its condition holds); `stop()` kills every process and removes the
// directory, and an `exit` hook kills what a crashed test left behind.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const HOST = '127.0.0.1';
/** Below Linux's default ephemeral range (32768–60999), where freePort() and the kernel pick. */
const PORT_RANGE = [20000, 32000] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `setpriv --pdeathsig KILL` (util-linux) makes a server die with the test process even when that
 * one is killed outright (no `exit` hook runs then); without setpriv, the hook below is all there is.
 */
const WRAPPER = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true']).status === 0 ? ['setpriv', '--pdeathsig', 'KILL'] : [];

const live = new Set<ChildProcess>();
let exitHook = false;
function track(p: ChildProcess): void {
  live.add(p);
  p.once('exit', () => live.delete(p));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

const taken = new Set<number>();
/** `n` distinct ports, free now, picked at random in PORT_RANGE. */
export async function sparePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 1000) throw new Error('no spare ports');
    const p = PORT_RANGE[0] + Math.floor(Math.random() * (PORT_RANGE[1] - PORT_RANGE[0]));
    if (taken.has(p) || !(await portFree(p))) continue;
    taken.add(p);
    out.push(p);
  }
  return out;
}

/** Polls `check` until it is true, at most `ms`; the error names `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 15_000, every = 50): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await sleep(every);
  }
}

/** One command to one node on a short-lived connection; throws when the node does not answer. */
export async function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  const c = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 2000, enableOfflineQueue: false });
  c.on('error', () => {});
  try {
    await c.connect();
    return await c.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    c.disconnect();
  }
}

/** What the first of `processes` to answer `ask` says (the next is asked when one fails); throws `none` when none answers. */
async function firstAnswer<T>(processes: RedisProcess[], ask: (port: number) => Promise<T>, none: string): Promise<T> {
  for (const p of processes) {
    try {
      return await ask(p.port);
    } catch {
      // the next one
    }
  }
  throw new Error(none);
}

/** INFO <section> of a node as a map. */
async function info(port: number, section: string): Promise<Record<string, string>> {
  const text = String(await command(port, 'INFO', section));
  return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

/** One redis-server (or Sentinel) process that can be killed and started again on its port. */
export class RedisProcess {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly args: string[],
    private readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const argv = [...WRAPPER, 'redis-server', ...this.args, '--logfile', this.logFile];
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    track(p);
    this.proc = p;
    await waitFor(`redis-server on ${this.port}`, async () => {
      if (p.exitCode !== null) throw new Error(`redis-server on ${this.port} exited with ${p.exitCode} (see ${this.logFile})`);
      // Ours, not a server someone else started on the port meanwhile (setpriv execs: same pid).
      return (await info(this.port, 'server'))['process_id'] === String(p.pid);
    }, 30_000, 20);
  }

  /** SIGKILL: the process is gone at once, as in a crash. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

/** What every topology is: its processes, in a temporary directory of their own. */
export interface ProcessGroup {
  dir: string;
  process(port: number): RedisProcess;
  /** SIGKILL to every process at once. */
  killAll(): Promise<void>;
  /** Every process started again on its port (each resolves once it answers). */
  startAll(): Promise<void>;
  /** Kills every process and removes the directory. */
  stop(): Promise<void>;
}

function processGroup(dir: string, processes: RedisProcess[]): ProcessGroup {
  const group: ProcessGroup = {
    dir,
    process(port) {
      const p = processes.find((x) => x.port === port);
      if (!p) throw new Error(`no process on ${port}`);
      return p;
    },
    async killAll() {
      await Promise.all(processes.map((p) => p.kill()));
    },
    async startAll() {
      await Promise.all(processes.map((p) => p.start()));
    },
    async stop() {
      await group.killAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return group;
}

/**
 * Brings a topology up with `boot`. One that fails to start (a probed port taken in between by
 * someone else) is torn down and built again on other ports, up to `attempts` times.
 */
async function launch<T extends ProcessGroup>(build: () => Promise<T>, boot: (t: T) => Promise<void>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    const topology = await build();
    try {
      await boot(topology);
      return topology;
    } catch (e) {
      await topology.stop();
      if (i >= attempts) throw e;
    }
  }
}

/** A node killed for a failover: resolves once it is dead; `promoted` once its replica serves in its place. */
export interface Failover {
  killed: number;
  killedAt: number;
  promoted: Promise<{ port: number; at: number; ms: number }>;
}

/** Kills `port` and watches for `promotedPort` to report the new master (0 until then), at most `ms`. */
async function failover(group: ProcessGroup, port: number, what: string, promotedPort: () => Promise<number>, ms: number): Promise<Failover> {
  const killedAt = Date.now();
  await group.process(port).kill();
  const promoted = (async () => {
    let to = 0;
    await waitFor(what, async () => (to = await promotedPort()) > 0, ms, 50);
    const at = Date.now();
    return { port: to, at, ms: at - killedAt };
  })();
  promoted.catch(() => {}); // awaited by the caller; not an unhandled rejection if the test fails first
  return { killed: port, killedAt, promoted };
}

function serverArgs(port: number, dir: string, extra: string[] = []): string[] {
  return [
    '--port', String(port), '--bind', HOST, '--dir', dir,
    '--save', '', '--appendonly', 'no',
    // A replica syncs at once (the default waits 5 s for more replicas before a diskless sync).
    '--repl-diskless-sync-delay', '0',
    ...extra,
  ];
}

// ---------------------------------------------------------------------------------------------
// Cluster

export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** For a replica, its master's id. */
  masterId?: string;
  failed: boolean;
  connected: boolean;
  slots: [number, number][];
}

export interface RedisClusterTopology extends ProcessGroup {
  nodes: RedisProcess[];
  /** What a gateway's `redis.clusterNodes` takes. */
  seeds: { host: string; port: number }[];
  /** The cluster as a running node sees it (CLUSTER NODES). */
  view(): Promise<ClusterNodeInfo[]>;
  /** The slot of a key and the port of the master serving it now. */
  ownerOf(key: string): Promise<{ slot: number; port: number }>;
  /** Every node running, the state ok everywhere, every slot on a live master, every replica in sync. */
  waitHealthy(ms?: number): Promise<void>;
  /** Kills a master (resolves once it is dead); `promoted`: its replica serves its slots and the cluster is ok again. */
  killMaster(port: number, ms?: number): Promise<Failover>;
}

function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.trim().split(' ');
      const flags = f[2]!.split(',');
      const slots = f.slice(8).filter((s) => !s.startsWith('[')).map((s) => {
        const [a, b] = s.split('-').map(Number);
        return [a!, b ?? a!] as [number, number];
      });
      return {
        id: f[0]!,
        port: Number(f[1]!.split('@')[0]!.split(':')[1]),
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: f[3] === '-' ? undefined : f[3],
        failed: flags.includes('fail') || flags.includes('fail?'),
        connected: f[7] === 'connected',
        slots,
      } satisfies ClusterNodeInfo;
    });
}

/**
 * Starts 6 cluster-enabled redis-servers and joins them with `redis-cli --cluster create`
 * (3 masters, one replica each). `cluster-node-timeout` 1000 ms makes a failover take about 2–3 s;
 * `cluster-replica-validity-factor 0` lets a replica take over however long it was out of touch.
 */
export function startRedisCluster(opts: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterTopology> {
  return launch(
    () => buildRedisCluster(opts),
    async (topology) => {
      await topology.startAll();
      await promisify(execFile)('redis-cli', ['--cluster', 'create', ...topology.seeds.map((s) => `${s.host}:${s.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
        timeout: 60_000,
      });
      await topology.waitHealthy();
    },
  );
}

async function buildRedisCluster(opts: { nodeTimeoutMs?: number }): Promise<RedisClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-cluster-'));
  const ports = await sparePorts(12);
  const dataPorts = ports.slice(0, 6);
  const nodes = dataPorts.map(
    (port, i) =>
      new RedisProcess(
        port,
        serverArgs(port, dir, [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-port', String(ports[6 + i]),
          '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 1000),
          '--cluster-replica-validity-factor', '0',
        ]),
        join(dir, `${port}.log`),
      ),
  );
  const running = () => nodes.filter((n) => n.running);
  const view = () => firstAnswer(running(), async (port) => parseClusterNodes(String(await command(port, 'CLUSTER', 'NODES'))), 'no cluster node answers');
  // killAll/startAll: the nodes.conf files keep the topology, the cluster forms again by itself (empty: no persistence).
  const topology: RedisClusterTopology = {
    ...processGroup(dir, nodes),
    nodes,
    seeds: dataPorts.map((port) => ({ host: HOST, port })),
    view,
    async ownerOf(key) {
      const slot = Number(await command(running()[0]!.port, 'CLUSTER', 'KEYSLOT', key));
      const owner = (await view()).find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (!owner) throw new Error(`no live master serves slot ${slot}`);
      return { slot, port: owner.port };
    },
    async waitHealthy(ms = 60_000) {
      await waitFor('a healthy cluster', async () => {
        if (running().length !== nodes.length) return false;
        for (const n of nodes) {
          if ((await info(n.port, 'cluster'))['cluster_enabled'] !== '1') return false;
          const state = String(await command(n.port, 'CLUSTER', 'INFO'));
          if (!state.includes('cluster_state:ok')) return false;
          const seen = parseClusterNodes(String(await command(n.port, 'CLUSTER', 'NODES')));
          if (seen.length !== nodes.length || seen.some((s) => s.failed || !s.connected)) return false;
          if (seen.filter((s) => s.role === 'master' && s.slots.length > 0).length !== 3) return false;
          const repl = await info(n.port, 'replication');
          if (repl['role'] === 'slave' && repl['master_link_status'] !== 'up') return false;
        }
        return true;
      }, ms, 100);
    },
    async killMaster(port, ms = 60_000) {
      const master = (await view()).find((n) => n.port === port && n.role === 'master');
      if (!master) throw new Error(`${port} is not a master`);
      return failover(topology, port, `a replica of ${port} promoted`, async () => {
        const promoted = (await view()).find((n) => n.role === 'master' && !n.failed && n.port !== port && n.slots.some(([a]) => a === master.slots[0]![0]));
        if (!promoted) return 0;
        for (const n of running()) if (!String(await command(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return 0;
        return promoted.port;
      }, ms);
    },
  };
  return topology;
}

// ---------------------------------------------------------------------------------------------
// Sentinel

export interface RedisSentinelTopology extends ProcessGroup {
  name: string;
  /** The two data nodes (the first started as the primary). */
  servers: RedisProcess[];
  sentinelProcesses: RedisProcess[];
  /** What a gateway's `redis.sentinels` takes. */
  sentinels: { host: string; port: number }[];
  /** The primary's port, as the Sentinels report it. */
  primary(): Promise<number>;
  /**
   * The Sentinels agree on a running primary that says it is one, and know each other.
   * `replica`: also a replica in sync with it, known to the Sentinels (a failover can happen).
   */
  waitHealthy(opts?: { replica?: boolean; ms?: number }): Promise<void>;
  /** Kills the primary (resolves once it is dead); `promoted`: the Sentinels have promoted the replica. */
  killPrimary(ms?: number): Promise<Failover>;
  /** Starts a stopped data node as a replica of the current primary (what an operator does after a failover). */
  rejoinAsReplica(port: number): Promise<void>;
}

/**
 * A primary, its replica and 3 Sentinels (quorum 2, down after 1000 ms: a failover takes about
 * 2–3 s). The data nodes run from config files the Sentinels rewrite, so roles survive a restart.
 */
export function startRedisSentinel(opts: { name?: string; downAfterMs?: number } = {}): Promise<RedisSentinelTopology> {
  return launch(
    () => buildRedisSentinel(opts),
    async (topology) => {
      for (const s of topology.servers) await s.start();
      await Promise.all(topology.sentinelProcesses.map((s) => s.start()));
      await topology.waitHealthy();
    },
  );
}

async function buildRedisSentinel(opts: { name?: string; downAfterMs?: number }): Promise<RedisSentinelTopology> {
  const name = opts.name ?? 'gatehouse';
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-sentinel-'));
  const [p1, p2, ...sPorts] = await sparePorts(5);
  const dataConf = (port: number, replicaOf?: number) => {
    const file = join(dir, `redis-${port}.conf`);
    const lines = [`port ${port}`, `bind ${HOST}`, `dir ${dir}`, 'save ""', 'appendonly no', 'repl-diskless-sync-delay 0'];
    if (replicaOf) lines.push(`replicaof ${HOST} ${replicaOf}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const servers = [new RedisProcess(p1!, [dataConf(p1!)], join(dir, `${p1}.log`)), new RedisProcess(p2!, [dataConf(p2!, p1)], join(dir, `${p2}.log`))];
  const sentinelProcesses = sPorts.map((port) => {
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${name} ${HOST} ${p1} 2`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    return new RedisProcess(port, [file, '--sentinel'], join(dir, `sentinel-${port}.log`));
  });
  const all = [...servers, ...sentinelProcesses];
  const liveSentinels = () => sentinelProcesses.filter((s) => s.running);
  const primary = () =>
    firstAnswer(liveSentinels(), async (port) => Number(((await command(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string])[1]), 'no Sentinel answers');
  const topology: RedisSentinelTopology = {
    ...processGroup(dir, all),
    name,
    servers,
    sentinelProcesses,
    sentinels: sPorts.map((port) => ({ host: HOST, port })),
    primary,
    async waitHealthy({ replica = true, ms = 60_000 } = {}) {
      await waitFor('a healthy Sentinel group', async () => {
        if (liveSentinels().length !== sentinelProcesses.length) return false;
        const seen = new Set<number>();
        for (const s of sentinelProcesses) {
          const [, port] = (await command(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
          seen.add(Number(port));
          if (((await command(s.port, 'SENTINEL', 'SENTINELS', name)) as unknown[]).length !== sentinelProcesses.length - 1) return false;
        }
        if (seen.size !== 1) return false;
        const port = [...seen][0]!;
        if (!topology.process(port).running) return false;
        const repl = await info(port, 'replication');
        if (repl['role'] !== 'master') return false;
        if (!replica) return true;
        if (repl['connected_slaves'] !== '1') return false;
        const other = servers.find((s) => s.port !== port)!;
        if ((await info(other.port, 'replication'))['master_link_status'] !== 'up') return false;
        for (const s of sentinelProcesses) {
          const replicas = (await command(s.port, 'SENTINEL', 'REPLICAS', name)) as string[][];
          const ok = replicas.some((r) => {
            const m = new Map<string, string>();
            for (let i = 0; i + 1 < r.length; i += 2) m.set(r[i]!, r[i + 1]!);
            return Number(m.get('port')) === other.port && m.get('flags') === 'slave' && m.get('master-link-status') === 'ok';
          });
          if (!ok) return false;
        }
        return true;
      }, ms, 100);
    },
    // A failed attempt (split vote) is retried after 2 × failover-timeout: `ms` leaves room for that.
    async killPrimary(ms = 60_000) {
      const oldPrimary = await primary();
      return failover(topology, oldPrimary, 'the Sentinels to promote the replica', async () => {
        const p = await primary();
        return p !== oldPrimary && (await info(p, 'replication'))['role'] === 'master' ? p : 0;
      }, ms);
    },
    async rejoinAsReplica(port) {
      dataConf(port, await primary());
      await topology.process(port).start();
    },
  };
  return topology;
}
