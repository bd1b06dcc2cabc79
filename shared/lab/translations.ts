/**
 * Translations kept in step with their English sources.
 *
 * Every English text a learner reads (the top-level README, each lesson's README, each lesson's hints)
 * has a Simplified Chinese counterpart beside it: `README.zh-CN.md` next to `README.md`, and
 * `shared/lab/hints/zh-CN/NN-slug.md` next to `shared/lab/hints/NN-slug.md`. The first line of a
 * translation records which version of the English it translates:
 *
 *   <!-- translation of README.md · sha256 3f1c0a9e5b7d2c48 · update this line only after updating the text -->
 *
 * `npm test` fails, naming the file, when the English changed after that line was written, when a
 * translation is missing, or when the two name different TODO steps ("TODO 3.4" must mean the same step in
 * both). After bringing a translation up to date, a maintainer re-stamps it with
 * `npx tsx shared/lab/cli.ts translations --stamp <translation file>`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoPath, ROOT } from './lessons.ts';
import { bold, green, LabError, red, say, sayNext } from './output.ts';

/** The one translation the workshop ships. */
export const TRANSLATION = 'zh-CN';

/** An English text and where its translation lives. */
export interface TranslationPair {
  source: string;
  translation: string;
}

/** What is wrong with one translation, as one line for the maintainer. */
export interface TranslationProblem {
  translation: string;
  /** `missing`: no translation yet; `stale`: the English changed since; `stamp`: no stamp line; `todos`: different TODO steps. */
  kind: 'missing' | 'stale' | 'stamp' | 'todos';
  problem: string;
}

const STAMP = /^<!-- translation of (\S+) · sha256 ([0-9a-f]{16}) · [^\n]*-->\r?\n/;

/**
 * The first 16 hex digits of the SHA-256 of a text, with Windows line endings read as `\n` (so a
 * checkout with `core.autocrlf` stamps the same).
 */
export function textStamp(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex').slice(0, 16);
}

/** The English texts that must have a translation, each with its translation's path. */
export function translationPairs(root = ROOT): TranslationPair[] {
  const readmes = ['README.md'];
  for (const kind of ['lessons', 'solutions']) {
    const dir = path.join(root, kind);
    if (!existsSync(dir)) continue;
    for (const folder of readdirSync(dir).filter((name) => /^\d\d-/.test(name)).sort()) {
      if (existsSync(path.join(dir, folder, 'README.md'))) readmes.push(path.join(kind, folder, 'README.md'));
    }
  }
  const hintsDir = path.join(root, 'shared', 'lab', 'hints');
  const hints = existsSync(hintsDir) ? readdirSync(hintsDir).filter((name) => /^\d\d-.*\.md$/.test(name)).sort() : [];
  return [
    ...readmes.map((source) => ({ source: path.join(root, source), translation: path.join(root, source.replace(/README\.md$/, `README.${TRANSLATION}.md`)) })),
    ...hints.map((name) => ({ source: path.join(hintsDir, name), translation: path.join(hintsDir, TRANSLATION, name) })),
  ];
}

/** Every "TODO N.M" a text names, sorted and without repeats. */
export function todoSteps(text: string): string[] {
  return [...new Set(text.match(/TODO \d+\.\d+/g) ?? [])].sort();
}

/** Every problem with the translations under `root`; an empty list means they are all in step. */
export function translationProblems(root = ROOT): TranslationProblem[] {
  const problems: TranslationProblem[] = [];
  for (const { source, translation } of translationPairs(root)) {
    const name = repoPath(translation, root);
    const report = (kind: TranslationProblem['kind'], problem: string) => problems.push({ translation: name, kind, problem });
    if (!existsSync(translation)) {
      report('missing', `missing: ${repoPath(source, root)} has no ${TRANSLATION} translation`);
      continue;
    }
    const english = readFileSync(source, 'utf8');
    const text = readFileSync(translation, 'utf8');
    const stamp = STAMP.exec(text);
    if (!stamp) {
      report('stamp', `its first line is not a "<!-- translation of … · sha256 … -->" stamp`);
      continue;
    }
    if (stamp[2] !== textStamp(english)) {
      report('stale', `${repoPath(source, root)} changed after this translation was last brought up to date: translate the change, then re-stamp it`);
    }
    const missing = todoSteps(english).filter((step) => !todoSteps(text).includes(step));
    const extra = todoSteps(text).filter((step) => !todoSteps(english).includes(step));
    if (missing.length > 0) report('todos', `names no ${missing.join(', ')}, which the English names`);
    if (extra.length > 0) report('todos', `names ${extra.join(', ')}, which the English does not`);
  }
  return problems;
}

/** Writes (or rewrites) the stamp line of one translation for the current English source. */
export function stampTranslation(file: string, root = ROOT): void {
  const translation = path.resolve(file);
  const pair = translationPairs(root).find((candidate) => candidate.translation === translation);
  if (!pair) throw new LabError(`${file} is not a translation the workshop knows (README.${TRANSLATION}.md beside a README.md, or shared/lab/hints/${TRANSLATION}/NN-slug.md).`);
  if (!existsSync(translation)) throw new LabError(`${file} does not exist yet: write the translation first, then stamp it.`);
  const body = readFileSync(translation, 'utf8').replace(STAMP, '');
  const source = path.basename(pair.source);
  const stamp = `<!-- translation of ${source} · sha256 ${textStamp(readFileSync(pair.source, 'utf8'))} · update this line only after updating the text -->\n`;
  writeFileSync(translation, stamp + body);
}

/** `cli.ts translations [--stamp <file>]`: list what is out of step, or re-stamp one translation. */
export function translationsCommand(stamp: string | undefined): number {
  if (stamp !== undefined) {
    stampTranslation(stamp);
    say(green(`Stamped ${repoPath(path.resolve(stamp))} as up to date with its English source.`));
    return 0;
  }
  const problems = translationProblems();
  if (problems.length === 0) {
    say(green(`Every ${TRANSLATION} translation is in step with its English source.`));
    return 0;
  }
  say(bold(`${problems.length} ${TRANSLATION} translation problem(s):`));
  for (const { translation, problem } of problems) say(`  ${red('✘')} ${translation}: ${problem}`);
  sayNext('Next:', [['npx tsx shared/lab/cli.ts translations --stamp <file>', 'after updating a translation, record which English it follows']]);
  return 1;
}
