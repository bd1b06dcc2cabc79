/**
 * Fingerprints of files (SHA-256 of each), to prove that a run left the grader's files as they were.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** File path → SHA-256 of its content (hex). */
export type Digest = Map<string, string>;

/** Every file under `paths` (files or folders; `node_modules` skipped, links not followed) → its hash. */
export function digest(paths: string[]): Digest {
  const out: Digest = new Map();
  const walk = (current: string) => {
    if (!existsSync(current)) return;
    const stat = lstatSync(current);
    if (stat.isSymbolicLink()) out.set(current, `link`);
    else if (stat.isDirectory()) {
      for (const name of readdirSync(current).sort()) if (name !== 'node_modules') walk(path.join(current, name));
    } else out.set(current, createHash('sha256').update(readFileSync(current)).digest('hex'));
  };
  for (const entry of paths) walk(entry);
  return out;
}

/** Files added, removed or changed between two digests, sorted. */
export function changedFiles(before: Digest, after: Digest): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name)).sort();
}
