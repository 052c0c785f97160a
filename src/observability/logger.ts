// observability/: the logger, JSON lines to stdout. Log lines carry ids and outcomes, never a
// credential: callers pass fields, and only the access-log fields are request data.
// pino writing through sonic-boom: a line is appended to a buffer, the buffer is written in
// batches, and whatever is buffered is flushed on exit. winston wrote each line to the pipe: on the
// L1-hit benchmark that write alone was 18% of the gateway's busy time (test/bench/README.md).
// The batches are written synchronously: an asynchronous write goes through libuv's thread pool
// and copies the batch once more, which measured 9–13 µs of CPU per access line against 5.3 µs
// for a synchronous write per 8 KiB (100,000 lines into a pipe, CPU-pinned, side by side). The
// cost: a reader that stops reading (a full pipe) stalls the gateway instead of growing its memory.
import pino, { type DestinationStream } from 'pino';

// Lines are written in batches of at least FLUSH_BYTES (about 20 access lines), or after
// FLUSH_EVERY_MS when traffic is light, so a busy gateway makes one write per batch, not per line.
const FLUSH_BYTES = 8192;
const FLUSH_EVERY_MS = 200;

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, unknown>;

/** What the code calls: a message and its fields (the message first, as it reads in a call). */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level: LogLevel | 'silent';
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

let stdoutDestination: DestinationStream | undefined;
/** One batched stdout destination per process, flushed on exit (pino flushes only asynchronous ones itself). */
function stdout(): DestinationStream {
  if (!stdoutDestination) {
    const d = pino.destination({ dest: 1, sync: true, minLength: FLUSH_BYTES, periodicFlush: FLUSH_EVERY_MS });
    process.once('exit', () => d.flushSync());
    stdoutDestination = d;
  }
  return stdoutDestination;
}

export function createLogger(opts: LoggerOptions): Logger {
  const destination: DestinationStream = (opts.stream as DestinationStream | undefined) ?? stdout();
  // The line shape operators already parse: {"level":"info","timestamp":"…","service":"gatehouse","pid":…,…,"message":"…"}
  const lines = pino(
    {
      level: opts.level,
      messageKey: 'message',
      // pid: which worker of a multi-worker gateway wrote the line
      base: { service: 'gatehouse', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (fields) lines[level](fields, message);
    else lines[level](message);
  };
  return {
    error: (message, fields) => log('error', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    info: (message, fields) => log('info', message, fields),
    debug: (message, fields) => log('debug', message, fields),
    log,
  };
}
