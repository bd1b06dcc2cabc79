/**
 * Opening the system browser for an interactive sign-in, and knowing when not to try.
 *
 * Given code: you do not need to change this file. It is the same in lessons/ and solutions/.
 */
import { spawn } from 'node:child_process';

/**
 * Why no browser can be opened here, or undefined when one probably can. Then the sign-in uses the
 * device code flow instead (RFC 8628): the user opens a URL on any device and types a short code.
 */
export function browserUnavailableReason(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const noBrowser = env.LAB_NO_BROWSER?.trim().toLowerCase();
  if (noBrowser && noBrowser !== '0' && noBrowser !== 'false') return 'LAB_NO_BROWSER is set';
  if (platform !== 'darwin' && platform !== 'win32' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return 'there is no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set';
  }
  return undefined;
}

/** How long a launcher may run before we take it that the browser is up (some launchers wait for the browser to exit). */
const LAUNCH_GRACE_MS = 2000;

/**
 * Opens `url` in the user's default browser. Resolves once the browser was launched, rejects when
 * no launcher exists or it fails, so the caller can fall back to the device code flow.
 *
 * The URL is passed as one argument to the launcher, never through a shell: an authorize URL is
 * full of `&`, which a shell (or `cmd /c start`) would read as "run another command".
 */
export function openSystemBrowser(url: string): Promise<void> {
  const protocol = new URL(url).protocol;
  if (protocol !== 'https:' && protocol !== 'http:') {
    return Promise.reject(new Error(`Refusing to open a ${protocol} URL in the browser.`));
  }
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    const timer = setTimeout(() => {
      child.unref();
      resolve();
    }, LAUNCH_GRACE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Could not run ${command}: ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with code ${code}`));
    });
  });
}
