/**
 * Structured logs (one JSON object per line, on stderr) that never hold a credential.
 *
 * Logs are copied to places with weaker protection than the server: log shippers, dashboards,
 * support tickets. A bearer token in a log line is a working key for anyone who reads it for up to
 * an hour; a client assertion is this app's identity for its lifetime. So redact them where they are
 * written, by path, instead of trusting every log call to leave them out.
 *
 * https://getpino.io/#/docs/redaction
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Every place a credential can appear in our log objects. pino-http logs the request headers; our own
 * calls may log an error object or an MSAL result. `*` matches one level of any key.
 */
export const REDACT_PATHS: string[] = [
  // TODO 5.4: List every path where a credential can appear: req.headers.authorization and
  // req.headers.cookie, and token, accessToken, access_token, refreshToken, refresh_token, idToken,
  // id_token, assertion, client_assertion, clientAssertion and oboAssertion, each at the top level and
  // one level down ('*.token'). See README, step 5.4.
];

export interface LoggerOptions {
  /** Where lines go (tests pass a stream to read them). Default: stderr. */
  destination?: DestinationStream;
  level?: pino.LevelWithSilent;
}

/** The server's logger: JSON lines on stderr (stdout stays free), credentials redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      // TODO 5.4: redact REDACT_PATHS, replacing each value with REDACTED (pino's `redact` option).
      base: undefined, // no hostname or pid in every line: they identify the machine, not the event
    },
    options.destination ?? pino.destination(2),
  );
}

/** One line per HTTP request (method, path, status, time), with the same redaction. */
export function requestLogger(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? randomUUID()).slice(0, 64),
    // Health probes every few seconds would drown everything else.
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    // The request keeps pino-http's fields (headers included: that is where an Authorization header
    // would leak); of the response only the status is worth a line.
    serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
  });
}
