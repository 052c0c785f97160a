// cli/: reads a password from a prompt with echo off (a terminal) or from stdin (a pipe) — never
// from argv, where it would show in `ps` and shell history.
import { createInterface } from 'node:readline';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is how `echo` and files end; anything else is part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing of what is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stderr.write(question);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdin();
  const first = await prompt('Password: ');
  const again = await prompt('Repeat password: ');
  if (first !== again) throw new Error('the passwords do not match');
  return first;
}
