// observability/: the winston logger, JSON lines to stdout. Log lines carry ids and outcomes,
// never a credential: callers pass fields, and only the access-log fields below are request data.
import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: opts.level === 'silent' ? 'error' : opts.level,
    silent: opts.level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'gatehouse' },
    transports: [transport],
  });
}
