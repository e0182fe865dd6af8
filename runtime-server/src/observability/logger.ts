import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log object: credentials never reach a log line. */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-convoflow-secret"]',
  'headers["x-convoflow-secret"]',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
];

/**
 * Creates the JSON logger of the runtime-server (pino), with credential redaction on.
 *
 * @param options.level pino level (default `LOG_LEVEL` from the environment, else `info`).
 * @param options.destination where lines go (default stdout); tests pass a stream to read them.
 * @example
 * const logger = createLogger({ level: 'debug' });
 * logger.info({ flowId }, 'flow published');
 */
export function createLogger(options: { level?: string; destination?: DestinationStream; name?: string } = {}): Logger {
  const config: LoggerOptions = {
    name: options.name ?? 'convoflow',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
