/**
 * The options of `npm run grade`, read with node:util parseArgs:
 *
 *   grade [--out dir] [--time-limit s] [--points file] [--lessons 1,2] [--jobs N] [--shard i/n] <workspace>...
 *   grade --merge [--out dir] <report.json or its folder>...
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LabError } from '../output.ts';

/** The usage line `npm run grade` prints on bad arguments. */
export const USAGE =
  'npm run grade -- [--out dir] [--time-limit seconds] [--points file] [--lessons 1,2] [--jobs N] [--shard i/n] <workspace>...\n' +
  '       npm run grade -- --merge [--out dir] <shard report.json>...';

/** What to grade and how, from the command line. */
export interface GradeOptions {
  workspaces: string[];
  outDir: string;
  timeLimitSeconds?: number;
  pointsFile?: string;
  /** Only these lesson numbers (default: every lesson of this repository). */
  only?: number[];
  /** Runs at the same time (default: the machine's cores). */
  jobs: number;
  /** Grade only the i-th of n parts of the workspaces (1-based). */
  shard?: { index: number; count: number };
}

/** Grade a room (or one shard of it), or merge the reports of shards into one. */
export type GradeCommand = { kind: 'grade'; options: GradeOptions } | { kind: 'merge'; reports: string[]; outDir: string };

const OPTIONS = {
  out: { type: 'string' },
  'time-limit': { type: 'string' },
  points: { type: 'string' },
  lessons: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  merge: { type: 'boolean' },
} as const;

function positiveInteger(text: string, option: string, example: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new LabError(`${option} needs a whole number of 1 or more, e.g. ${option} ${example}; got "${text}".`);
  return value;
}

/**
 * `npm run grade` arguments → what to do. Throws a `LabError` with the usage line for anything it does
 * not understand (an unknown option, `--jobs 0`, `--shard 3/2`, no workspace).
 */
export function parseGradeArgs(argv: string[]): GradeCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new LabError(`${(error as Error).message.split('\n')[0]} Usage: ${USAGE}`);
  }
  const { values, positionals } = parsed;
  const outDir = path.resolve(values.out ?? 'grade-report');
  if (values.merge) {
    if (positionals.length === 0) throw new LabError('Name the report of each shard to merge: npm run grade -- --merge shards/*/report.json');
    return { kind: 'merge', reports: positionals, outDir };
  }
  let timeLimitSeconds: number | undefined;
  if (values['time-limit'] !== undefined) {
    timeLimitSeconds = Number(values['time-limit']);
    if (!Number.isFinite(timeLimitSeconds) || timeLimitSeconds <= 0) throw new LabError('--time-limit needs a number of seconds, e.g. --time-limit 120.');
  }
  let only: number[] | undefined;
  if (values.lessons !== undefined) {
    only = values.lessons.split(',').map(Number);
    if (only.some((n) => !Number.isInteger(n))) throw new LabError('--lessons needs lesson numbers separated by commas, e.g. --lessons 1,2.');
  }
  let shard: GradeOptions['shard'];
  if (values.shard !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(values.shard);
    const [index, count] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
    if (!match || index < 1 || count < 1 || index > count) throw new LabError(`--shard needs i/n with 1 ≤ i ≤ n, e.g. --shard 2/4; got "${values.shard}".`);
    shard = { index, count };
  }
  if (positionals.length === 0) {
    throw new LabError('Name at least one workspace to grade: npm run grade -- ../alice ../bob (folders that are clones of this workshop).');
  }
  return {
    kind: 'grade',
    options: {
      workspaces: positionals,
      outDir,
      timeLimitSeconds,
      pointsFile: values.points === undefined ? undefined : path.resolve(values.points),
      only,
      jobs: values.jobs === undefined ? os.availableParallelism() : positiveInteger(values.jobs, '--jobs', '4'),
      shard,
    },
  };
}
