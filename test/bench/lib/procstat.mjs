// CPU seconds and resident memory of a process, read from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}

export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** Samples the RSS of a process and its descendants (or of several: `{ name: pid }`, summed) every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid, everyMs = 20) {
  const pids = typeof pid === 'object' ? Object.values(pid) : [pid];
  const sample = () => pids.reduce((a, p) => a + treeRssBytes(p), 0);
  let peak = 0;
  const t = setInterval(() => {
    peak = Math.max(peak, sample());
  }, everyMs);
  peak = sample();
  return { stop: () => (clearInterval(t), peak), get peak() { return peak; } };
}

/** A process and all its descendants (a supervisor and its workers), from /proc. */
export function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${all[i]}/task`)) {
        const kids = readFileSync(`/proc/${all[i]}/task/${task}/children`, 'utf8').trim();
        if (kids) all.push(...kids.split(' ').map(Number));
      }
    } catch {}
  }
  return all;
}

/** `measure` summed over a process and its descendants (one that exits meanwhile counts 0). */
function overTree(pid, measure) {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      sum += measure(p);
    } catch {}
  }
  return sum;
}

/** Read-like and write-like system calls a process has made (syscr, syscw): each costs a kernel entry. */
export function syscalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)[1]) + Number(/syscw: (\d+)/.exec(io)[1]);
}

/** CPU seconds of a process and its descendants. */
export const treeCpuSeconds = (pid) => overTree(pid, cpuSeconds);

/** Read and write system calls of a process and its descendants. */
export const treeSyscalls = (pid) => overTree(pid, syscalls);

/** Resident memory of a process and its descendants. */
export const treeRssBytes = (pid) => overTree(pid, rssBytes);
