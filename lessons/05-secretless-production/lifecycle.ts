/**
 * Starting and stopping the HTTP server the way a platform expects. Container Apps, App Service and
 * Kubernetes stop a replica with SIGTERM and kill it some seconds later: in between, the server must
 * stop taking new requests, finish the ones in flight, and only then exit. Otherwise every deployment
 * and scale-in cuts some users' tool calls off halfway (a mail sent, but no answer).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Logger } from 'pino';

/** Server timeouts: a client that sends its headers or body very slowly must not hold a socket forever. */
export const TIMEOUTS = {
  /** The whole request must arrive within this (Node's default is 5 minutes). */
  requestMs: 30_000,
  /** The headers must arrive within this (slowloris). */
  headersMs: 10_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: 5_000,
};

/** How long shutdown waits for requests in flight before it closes what is left. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Listens on `port` (`host` default: all interfaces, as in a container) with the timeouts above. */
export function listen(app: RequestListener, port: number, host?: string): Promise<Server> {
  const server = createServer(app);
  server.requestTimeout = TIMEOUTS.requestMs;
  server.headersTimeout = TIMEOUTS.headersMs;
  server.keepAliveTimeout = TIMEOUTS.keepAliveMs;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export interface ShutdownOptions {
  /** Set to false at once, so /readyz answers 503 and the load balancer stops sending requests. */
  state: { ready: boolean };
  log: Logger;
  graceMs?: number;
}

/**
 * Graceful shutdown: readiness off, stop accepting connections, let requests in flight finish (idle
 * keep-alive connections are closed now, busy ones after their response), and after `graceMs` close
 * whatever is still open. Resolves when the server has closed.
 */
export function shutDownGracefully(server: Server, { state, log, graceMs = SHUTDOWN_GRACE_MS }: ShutdownOptions): Promise<void> {
  // TODO 5.7: Shut down gracefully instead: state.ready = false at once; server.close(resolve) stops
  // accepting connections and waits for requests in flight; server.closeIdleConnections() closes idle
  // keep-alive connections now, and again every 100 ms (an unref'd interval) as busy ones finish;
  // after graceMs (an unref'd timer) closeAllConnections(). Log what happens.
  // See README, step 5.7.
  void state;
  void log;
  void graceMs;
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
