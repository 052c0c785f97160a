// CPU seconds and resident memory of a process, read from /proc (Linux).
import { readFileSync } from 'node:fs';

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

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid, everyMs = 20) {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {}
  }, everyMs);
  peak = rssBytes(pid);
  return { stop: () => (clearInterval(t), peak), get peak() { return peak; } };
}
