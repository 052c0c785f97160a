// Soak, long form (not part of `npm test`): runs test/integration/soak.test.ts for minutes instead
// of seconds, on PostgreSQL and real Redis — two gateways, concurrent valid traffic, a churn of
// tokens created/enabled/disabled/deleted through the settings API, every response checked — and
// prints the counts the test logs.
//
//   node test/bench/soak.mjs            (SOAK_SECONDS default 180; SOAK_DB postgres|sqlite, default postgres)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const seconds = process.env.SOAK_SECONDS ?? '180';
const db = process.env.SOAK_DB ?? 'postgres';
const run = spawnSync('npx', ['vitest', 'run', '--config', 'test/vitest.config.ts', '--project', db, 'test/integration/soak.test.ts'], {
  cwd: root,
  env: { ...process.env, SOAK_SECONDS: seconds },
  encoding: 'utf8',
});
const out = `${run.stdout}\n${run.stderr}`;
const line = /soak \w+ \d+s: \{[^\n]*\}/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''));
console.log(line?.[0] ?? out);
process.exit(run.status ?? 1);
