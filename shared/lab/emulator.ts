/**
 * Starting the Entra ID emulator's HTTP server for a lesson run (`lesson:N`) or on its own (`npm run emulator`).
 */
import type { WorkshopConfig } from '../config.ts';
import { tenantEndpoints } from '../emulator/endpoints.ts';
import { startEmulatorServer } from '../emulator/server.ts';
import { LabError } from './output.ts';
import { portAcceptsConnections } from './processes.ts';

/** An emulator this run can use: one it started, or one that was already running. */
export interface RunningEmulator {
  /** The emulator's origin, e.g. `http://localhost:3100`. */
  url: URL;
  /** True when an emulator was already running (another `npm run emulator`); close() then leaves it alone. */
  reused: boolean;
  /** Stops the emulator this run started; does nothing for a reused one. */
  close(): Promise<void>;
}

/** Whether the emulator answers at config.emulatorUrl (its tenant's OpenID configuration). */
async function emulatorAnswers(config: WorkshopConfig): Promise<boolean> {
  const discovery = tenantEndpoints(config.emulatorUrl).openIdConfiguration;
  try {
    const response = await fetch(discovery, { signal: AbortSignal.timeout(1500) });
    if (!response.ok) return false;
    const body = (await response.json()) as { token_endpoint?: unknown };
    return typeof body.token_endpoint === 'string';
  } catch {
    return false;
  }
}

/**
 * Registers this run's MCP URL as the MCP API's Application ID URI on an emulator that was already
 * running (started for another PORT, perhaps): it matches identifier URIs exactly, as Entra ID does.
 */
async function registerMcpUrl(config: WorkshopConfig): Promise<void> {
  // The control endpoint answers only at localhost, whatever public address EMULATOR_URL names.
  const response = await fetch(`http://localhost:${config.emulatorPort}/_emulator/api-app-id-uri`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: config.mcpUrl.href }),
    signal: AbortSignal.timeout(1500),
  }).catch(() => undefined);
  if (!response?.ok) {
    throw new LabError(
      `The Entra ID emulator running at ${config.emulatorUrl.origin} did not register ${config.mcpUrl.href} as the API's Application ID URI. ` +
        'Stop it (Ctrl+C in its terminal) so this run starts its own.',
    );
  }
}

/**
 * Starts the emulator in this process on `config.emulatorPort`, or reuses one that already answers at
 * EMULATOR_URL. `allowReuse: false` (for `npm run emulator`) makes an already running emulator an error
 * instead. `onEvent` receives one line per sign-in, token and mail, for the learner's console.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator(config, { allowReuse: true, onEvent: console.log });
 * try { … } finally { await emulator.close(); }
 * ```
 */
export async function startEmulator(
  config: WorkshopConfig,
  options: { allowReuse: boolean; onEvent?: (line: string) => void },
): Promise<RunningEmulator> {
  const port = config.emulatorPort;
  if (await portAcceptsConnections(port)) {
    if (await emulatorAnswers(config)) {
      if (options.allowReuse) {
        await registerMcpUrl(config);
        return { url: config.emulatorUrl, reused: true, close: async () => {} };
      }
      throw new LabError(
        `The Entra ID emulator is already running at ${config.emulatorUrl.origin} (another npm run emulator or npm run lesson:N). ` +
          'Use that one, or stop it with Ctrl+C in its terminal.',
      );
    }
    throw new LabError(
      `Port ${port} is in use by something that is not the Entra ID emulator. Stop it, or set EMULATOR_PORT in .env (see .env.example).`,
    );
  }
  try {
    // The MCP API's Application ID URI is the lesson's MCP URL, as lesson 4 registers it on a tenant.
    const server = await startEmulatorServer({ port, stateDir: config.stateDir, apiAppIdUri: config.mcpUrl, onEvent: options.onEvent });
    return { url: server.url, reused: false, close: () => server.close() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LabError(`Port ${port} is in use, so the Entra ID emulator cannot start. Stop what holds it, or set EMULATOR_PORT in .env.`);
    }
    throw error;
  }
}
