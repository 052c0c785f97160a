// The README's `npx gatehouse ...` runs package.json's bin, dist/cli/main.js, directly: once npx
// has linked it, a rebuilt dist/ must still be executable (tsc writes files without the run bit).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).bin.gatehouse as string;

describe('the gatehouse command', () => {
  it('is built executable, with a node shebang, and runs as a program', () => {
    const file = `${root}${bin}`;
    expect(statSync(file).mode & 0o111).toBe(0o111);
    expect(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(execFileSync(file, ['--help'], { encoding: 'utf8' })).toContain('Usage: gatehouse');
  });
});
