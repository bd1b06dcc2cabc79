/**
 * The offline bridge, preloaded into a lesson's process when no tenant is configured:
 *
 *   tsx --import ./shared/offline/register.ts lessons/02-…/main.ts
 *
 * Lesson code calls Microsoft Graph at its real URL, https://graph.microsoft.com, as production
 * code does (the Graph client only sends tokens to https Graph hosts). Offline, this routes those
 * calls to the Graph fake of the running emulator (`npm run emulator`, or started by `npm run lesson:N`).
 * Entra ID needs no bridge: the config hands MSAL the emulator's endpoints.
 */
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { OFFLINE_IDENTITY_HEADER } from '../emulator/directory.ts';
import { IDENTITY_ENDPOINT_PATH } from '../emulator/managedIdentity.ts';
import { GRAPH_ORIGIN } from '../emulator/msw.ts';
import { readSettings } from '../startup.ts';

// A malformed .env stops the process here with one line, as main.ts would, not with a stack trace.
const config = readSettings();

if (config.mode === 'offline') {
  // The hosting platform's part: App Service and Container Apps put these two variables in the app's
  // environment, and MSAL's ManagedIdentityApplication reads them (lesson 5). Offline the emulator
  // plays that identity endpoint. Variables already set win.
  process.env.IDENTITY_ENDPOINT ??= new URL(IDENTITY_ENDPOINT_PATH, config.emulatorUrl).href;
  process.env.IDENTITY_HEADER ??= OFFLINE_IDENTITY_HEADER;
  const emulatorGraph = new URL('/graph', config.emulatorUrl).href;
  const bridge = setupServer(
    http.all(`${GRAPH_ORIGIN}/*`, async ({ request }) => {
      const target = emulatorGraph + new URL(request.url).pathname + new URL(request.url).search;
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      try {
        return await fetch(target, { method: request.method, headers: request.headers, body });
      } catch {
        return Response.json(
          {
            error: {
              code: 'EmulatorNotRunning',
              message: `Offline mode: the workshop emulator is not answering at ${config.emulatorUrl.origin}. Start it with "npm run emulator".`,
            },
          },
          { status: 503 },
        );
      }
    }),
  );
  // Everything else (the emulator itself, local servers) goes to the network as usual.
  bridge.listen({ onUnhandledFrame: 'bypass' });
}
