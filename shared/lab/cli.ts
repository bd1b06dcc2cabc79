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
 *   translations [--stamp <file>]              (maintainers) which zh-CN translations lag their English source
 *
 * Mistakes the learner can fix (ConfigError, LabError) print one line and exit 1; anything else is a
 * bug in the workshop and keeps its stack trace.
 */
import './requireNode.ts';
import './compileCache.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config.ts';
import { availableLessons } from './lessons.ts';
import { LabError, say, sayError } from './output.ts';

/** The options each command takes; anything else is most likely a typo and is reported, not ignored. */
const COMMAND_OPTIONS = {
  run: {},
  check: { watch: { type: 'boolean' } },
  hint: { reset: { type: 'boolean' }, todo: { type: 'string' } },
  diff: { starter: { type: 'boolean' } },
  reset: { yes: { type: 'boolean' } },
  progress: { recheck: { type: 'boolean' } },
  starters: { update: { type: 'boolean' } },
  emulator: {},
  translations: { stamp: { type: 'string' } },
} satisfies Record<string, ParseArgsConfig['options']>;

type Command = keyof typeof COMMAND_OPTIONS;

/** `node:util` parseArgs, with its errors turned into one line for the learner. */
function parse(command: Command, args: string[]) {
  try {
    return parseArgs({ args, options: COMMAND_OPTIONS[command], allowPositionals: true, strict: true });
  } catch (error) {
    const known = Object.keys(COMMAND_OPTIONS[command]).map((name) => `--${name}`);
    const hint = known.length > 0 ? `It knows: ${known.join(', ')}.` : 'It takes no options.';
    const option = /'(-[^' ]*)/.exec((error as Error).message)?.[1] ?? 'an option';
    const takesValue = (COMMAND_OPTIONS[command] as ParseArgsConfig['options'])?.[option.replace(/^--?/, '')]?.type === 'string';
    const problem =
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `does not know the option ${option}`
        : takesValue ? `needs a value after ${option}` : `takes no value after ${option}`;
    throw new LabError(`${command} ${problem}. ${hint}`);
  }
}

// Each command imports its own module when it runs: `run` and `emulator` load the emulator and the MCP
// SDK (about half a second), which check:N, hint:N and the others never need.
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'grade') return (await import('./grade.ts')).gradeCommand(rest);
  if (command === undefined || !Object.hasOwn(COMMAND_OPTIONS, command)) {
    printUsage(command);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 1;
  }
  const { positionals, values } = parse(command as Command, rest);
  const flag = (name: string) => (values as Record<string, unknown>)[name] === true;
  switch (command as Command) {
    case 'run': {
      const [kind, lesson] = positionals;
      if (kind !== 'lessons' && kind !== 'solutions') throw new LabError(`Usage: cli.ts run <lessons|solutions> <N>; got "${kind ?? ''}".`);
      return (await import('./runLesson.ts')).runLesson(kind, lesson);
    }
    case 'check':
      return (await import('./checkLesson.ts')).checkLesson(positionals[0], flag('watch'));
    case 'hint':
      return (await import('./hints.ts')).hintCommand(positionals[0], { todo: (values as { todo?: string }).todo ?? positionals[1], reset: flag('reset') });
    case 'diff':
      return (await import('./diff.ts')).diffCommand(positionals[0], { starter: flag('starter') });
    case 'reset':
      return (await import('./reset.ts')).resetLesson(positionals[0], { yes: flag('yes') });
    case 'progress':
      return (await import('./progress.ts')).progressCommand({ recheck: flag('recheck') });
    case 'starters':
      return (await import('./starters.ts')).startersCommand(flag('update'));
    case 'emulator':
      return (await import('./emulatorCommand.ts')).emulatorCommand();
    case 'translations':
      return (await import('./translations.ts')).translationsCommand((values as { stamp?: string }).stamp);
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
