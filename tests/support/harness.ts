/**
 * What every lesson suite needs around the lesson's app: a server on a free loopback port (so suites
 * and a learner's running `npm run lesson:N` never collide), and file paths short enough to read in
 * a failure message.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** A listening server and how to stop it. */
export interface Listening {
  server: Server;
  port: number;
  /** Closes the server and any connection still open (a keep-alive client would hold it otherwise). */
  close(): Promise<void>;
}

/**
 * Listens on a free port of 127.0.0.1 before the app exists, so the app can be configured with the
 * URL it really serves (its callback and metadata URLs name that port). Attach the app with
 * `server.on('request', app)`, or pass it as `handler`.
 */
export async function listenOnFreePort(handler?: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on right now, for a server the test does not create itself (Redis, a lesson's own listen()). */
export async function freePort(): Promise<number> {
  const probe = await listenOnFreePort();
  await probe.close();
  return probe.port;
}

/** `file` relative to the working directory when inside it, with `/` on every platform: "lessons/01-open-server/server.ts". */
export function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return (relative.startsWith('..') ? file : relative).split(path.sep).join('/');
}
