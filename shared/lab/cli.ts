/**
 * The lab CLI behind the npm scripts:
 *
 *   run lessons N      npm run lesson:N        run your code for lesson N (and its demo)
 *   run solutions N    npm run solution:N      run the reference solution
 *   check N [--watch]  npm run check:N[:watch] run lesson N's tests against your code
 *   hint N [--todo N.x] [--reset]
 *                      npm run hint:N          the next hint, one tier at a time
 *   diff N [--starter] npm run diff:N          your code next to the solution (or starter → solution)
 *   reset N [--yes]    npm run reset:N         restore the starter, after a backup and a "yes"
 *   progress [--recheck]
 *                      npm run progress        every lesson: done, started or not started
 *   grade [options] <workspace>...
 *                      npm run grade           grade learner workspaces (for instructors)
 *   emulator           npm run emulator        the offline Entra ID sign-in pages on their own
 *   starters [--update]                        (maintainers) check or refresh the starter copies reset:N uses
 *
 * Mistakes the learner can fix (ConfigError, LabError) print one line and exit 1; anything else is a
 * bug in the workshop and keeps its stack trace.
 */
import './requireNode.ts';
import { ConfigError } from '../config.ts';
import { checkLesson } from './checkLesson.ts';
import { diffCommand } from './diff.ts';
import { emulatorCommand } from './emulatorCommand.ts';
import { gradeCommand } from './grade.ts';
import { hintCommand } from './hints.ts';
import { availableLessons } from './lessons.ts';
import { LabError, say, sayError } from './output.ts';
import { progressCommand } from './progress.ts';
import { resetLesson } from './reset.ts';
import { runLesson } from './runLesson.ts';
import { startersCommand } from './starters.ts';

/** Options that take a value (`--todo 1.2` or `--todo=1.2`), so the value is not read as a positional argument. */
const VALUE_OPTIONS = new Set(['--todo']);

/** Splits arguments into positional ones, flags, and option values. */
function parseArgs(args: string[]): { positional: string[]; flags: Set<string>; values: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (VALUE_OPTIONS.has(name)) {
      const value = inline ?? args[++index];
      if (value === undefined) throw new LabError(`${name} needs a value.`);
      values.set(name, value);
    } else {
      flags.add(name);
    }
  }
  return { positional, flags, values };
}

/** A flag the command does not know is most likely a typo: say so instead of ignoring it. */
function allowFlags(command: string, flags: Set<string>, known: string[]): void {
  for (const flag of flags) {
    if (!known.includes(flag)) {
      throw new LabError(`${command} does not know the option ${flag}.${known.length > 0 ? ` It knows: ${known.join(', ')}.` : ''}`);
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'grade') return gradeCommand(rest);
  const { positional, flags, values } = parseArgs(rest);
  switch (command) {
    case 'run': {
      const [kind, lesson] = positional;
      if (kind !== 'lessons' && kind !== 'solutions') throw new LabError(`Usage: cli.ts run <lessons|solutions> <N>; got "${kind ?? ''}".`);
      return runLesson(kind, lesson);
    }
    case 'check':
      allowFlags('check', flags, ['--watch']);
      return checkLesson(positional[0], flags.has('--watch'));
    case 'hint':
      allowFlags('hint', flags, ['--reset']);
      return hintCommand(positional[0], { todo: values.get('--todo') ?? positional[1], reset: flags.has('--reset') });
    case 'diff':
      allowFlags('diff', flags, ['--starter']);
      return diffCommand(positional[0], { starter: flags.has('--starter') });
    case 'reset':
      allowFlags('reset', flags, ['--yes']);
      return resetLesson(positional[0], { yes: flags.has('--yes') });
    case 'progress':
      allowFlags('progress', flags, ['--recheck']);
      return progressCommand({ recheck: flags.has('--recheck') });
    case 'starters':
      allowFlags('starters', flags, ['--update']);
      return startersCommand(flags.has('--update'));
    case 'emulator':
      return emulatorCommand();
    default:
      printUsage(command);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 1;
  }
}

function printUsage(command: string | undefined): void {
  if (command !== undefined && command !== 'help' && command !== '--help') sayError(`Unknown command "${command}".`);
  const first = availableLessons()[0]?.number ?? 1;
  say('Workshop commands (npm scripts):');
  say(`  npm run lesson:${first}         run your code for a lesson`);
  say(`  npm run solution:${first}       run the reference solution`);
  say(`  npm run check:${first}          check your code against the lesson's tests`);
  say(`  npm run check:${first}:watch    the same, again on every save`);
  say(`  npm run hint:${first}           the next hint for the step you are on`);
  say(`  npm run diff:${first}           your code next to the reference solution`);
  say(`  npm run reset:${first}          put the starter back (keeps a backup of your files)`);
  say('  npm run progress         every lesson: done, started or not started');
  say('  npm run grade -- <dir>…  grade learner workspaces (for instructors)');
  say('  npm run emulator         the offline Entra ID sign-in pages on their own');
  say('  npm test                 the workshop self-test (for maintainers)');
}

// Output piped into a pager or `head` that quits early is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError || error instanceof LabError) {
    sayError(error.message);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
