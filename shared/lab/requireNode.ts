/**
 * Stops a lab command at once, with one clear line, on a Node.js older than the workshop supports.
 * Import it first: older versions otherwise fail later in confusing ways (vitest 5 and msw 3 need 22.12).
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `✘ This workshop needs Node.js 22.12 or newer; this is ${process.version} (${process.execPath}). ` +
      'Install the current Node.js 22 or 24 from https://nodejs.org (or run nvm install, which reads .nvmrc), then run the command again.',
  );
  process.exit(1);
}

export {};
