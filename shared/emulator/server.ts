/**
 * The emulator as an HTTP server, for running lessons: the sign-in and device code pages in a real
 * browser, the token endpoint for MSAL in any process, and the Graph fake under /graph for the
 * offline bridge (shared/offline/register.ts). State and keys persist in the lab's state folder,
 * so signing in once lasts across restarts, as a real tenant would; certificates put in
 * `<stateDir>/emulator/certificates/<clientId>/` are credentials of that app (client assertions).
 * POST /_emulator/… makes Graph fail next or shortens token lifetimes, for demos (control.ts).
 *
 *   npm run emulator
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CONTROL_PREFIX, handleControl } from './control.ts';
import { createEntraEmulator, type EmulatorEvent, type EntraEmulator } from './entra.ts';
import type { Unsubscribe } from './events.ts';
import { GraphFake } from './graph.ts';
import { loadOrCreateKeySet } from './keys.ts';
import { EmulatorStore } from './store.ts';

/** How to serve the emulator over HTTP. */
export interface EmulatorServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Where state and keys are kept; in memory when omitted (tests). */
  stateDir?: string;
  /** Serve an existing emulator (tests); otherwise one is made. */
  emulator?: EntraEmulator;
  graph?: GraphFake;
  /** The MCP API's Application ID URI: the lesson's MCP URL (see EmulatorOptions). Default `http://localhost:3001/mcp`. */
  apiAppIdUri?: string | URL;
  /** Called with one line per sign-in, token, refusal and mail, for the learner's console (see {@link followEvents}). */
  onEvent?: (line: string) => void;
}

/** A running emulator server. */
export interface RunningEmulator {
  url: URL;
  emulator: EntraEmulator;
  graph: GraphFake;
  close(): Promise<void>;
}

/**
 * Serves the emulator and the Graph fake (under `/graph`) on `localhost`.
 *
 * @throws the listen error (e.g. `EADDRINUSE`) when the port is taken.
 * @example
 * ```ts
 * const running = await startEmulatorServer({ port: 0 }); // a free port
 * console.log(running.url.origin);
 * await running.close();
 * ```
 */
export async function startEmulatorServer(options: EmulatorServerOptions): Promise<RunningEmulator> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, 'localhost', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = new URL(`http://localhost:${port}`);

  const emulator = options.emulator ?? (await persistentEmulator(url, options.stateDir, options.apiAppIdUri));
  const graph = options.graph ?? new GraphFake(emulator);
  const unfollow = options.onEvent ? followEvents(emulator, graph, options.onEvent) : () => {};
  const initial = { accessTokenLifetimeSeconds: emulator.settings.accessTokenLifetimeSeconds };
  server.on('request', (req, res) => {
    void serve(req, res, url, emulator, graph, initial, options.onEvent);
  });
  return {
    url,
    emulator,
    graph,
    close: () =>
      new Promise((resolve) => {
        unfollow();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function persistentEmulator(url: URL, stateDir?: string, apiAppIdUri?: string | URL): Promise<EntraEmulator> {
  if (!stateDir) return createEntraEmulator({ url, apiAppIdUri });
  const dir = path.join(stateDir, 'emulator');
  const now = Date.now;
  return createEntraEmulator({
    url,
    apiAppIdUri,
    now,
    keys: await loadOrCreateKeySet(path.join(dir, 'keys.json')),
    store: new EmulatorStore(now, path.join(dir, 'state.json')),
    certificatesDir: path.join(dir, 'certificates'),
  });
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  origin: URL,
  emulator: EntraEmulator,
  graph: GraphFake,
  initial: { accessTokenLifetimeSeconds: number },
  onEvent?: (line: string) => void,
): Promise<void> {
  try {
    const request = toWebRequest(req, origin);
    const { pathname } = new URL(request.url);
    const control = pathname.startsWith(CONTROL_PREFIX);
    const response = control
      ? await handleControl(request, req.socket.remoteAddress, emulator, graph, initial)
      : pathname.startsWith('/graph/')
        ? await graph.handle(request)
        : await emulator.handle(request);
    if (control && response.ok) onEvent?.(`control: ${pathname.slice(CONTROL_PREFIX.length)} ${JSON.stringify(await response.clone().json())}`);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') res.setHeader(name, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    res.statusCode = 500;
    res.end(`Emulator error: ${(error as Error).message}`);
  }
}

function toWebRequest(req: IncomingMessage, origin: URL): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((each) => headers.append(name, each));
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
    duplex: 'half',
  } as RequestInit);
}

/** AADSTS70016, authorization pending: a device-code client polls every few seconds while it waits. */
const STILL_WAITING = 70016;

/**
 * The learner's console: one line per sign-in, issued token, device code, refusal and mail, printed
 * as each happens, for as long as the emulator runs. Device-code polls that are still waiting are
 * not news worth a line.
 *
 * @param print Receives each line, without a trailing newline.
 * @returns Stops following.
 *
 * @example
 * ```ts
 * const stop = followEvents(emulator, graph, (line) => console.log(`emulator › ${line}`));
 * ```
 */
export function followEvents(emulator: EntraEmulator, graph: GraphFake, print: (line: string) => void): Unsubscribe {
  const unsubscribes = [
    emulator.events.on((event) => {
      if (event.code !== 'request-refused' || event.aadsts !== STILL_WAITING) print(describeEvent(event));
    }),
    graph.events.on(({ mail }) => print(`mail sent by ${mail.from} to ${mail.to.join(', ')}: "${mail.subject}"`)),
  ];
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
}

function describeEvent(event: EmulatorEvent): string {
  switch (event.code) {
    case 'request-refused':
      return `refused: ${event.message}`;
    case 'signed-in':
      return `${event.user} signed in (client ${event.clientId})`;
    case 'device-code-issued':
      return `device code issued (client ${event.clientId})`;
    case 'token-issued':
      return `token issued: ${event.grant}${event.user ? ` for ${event.user}` : ''} (client ${event.clientId})`;
    case 'managed-identity-token-issued':
      return `platform identity endpoint: token for ${event.resource} issued to managed identity ${event.clientId}`;
  }
}
