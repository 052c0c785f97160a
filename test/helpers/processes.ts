// Runs the built CLI and gateway as real child processes (dist/, built by `npm test` before vitest).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}dist/cli/main.js`;
const MAIN = `${ROOT}dist/main.js`;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Runs a CLI command with `--json` that must succeed (exit 0, nothing on stderr); its parsed output. */
export async function runCliJson(args: string[], env: Record<string, string>): Promise<any> {
  const r = await runCli([...args, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `node dist/main.js` and waits for its "gatehouse listening" log line. */
export function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, cwd: ROOT });
    let out = '';
    const onData = (c: Buffer) => {
      out += c;
      for (const line of out.split('\n')) {
        if (!line.includes('gatehouse listening')) continue;
        try {
          const url = (JSON.parse(line) as { url: string }).url;
          resolve({
            child,
            url,
            output: () => out,
            stop: () =>
              new Promise((r) => {
                if (child.exitCode !== null) return r(child.exitCode);
                child.once('exit', (code) => r(code));
                child.kill('SIGTERM');
              }),
          });
        } catch {
          /* partial line */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}: ${out}`)));
  });
}
