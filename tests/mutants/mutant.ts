/**
 * The shape of a mutation catalogue (`tests/mutants/NN-slug.ts`, one per lesson): mistakes a learner
 * could plausibly make, each one edit of the reference solution that breaks one rule the lesson's text
 * teaches. `npm run mutants [N]` applies each to a scratch copy of the solution and runs the lesson's
 * tests against it: every mutant must make at least one test fail ("killed"). A mutant whose `find` text
 * no longer occurs exactly once, or whose `section` is no longer a heading of the lesson's README, fails
 * the run too, so the catalogue cannot rot.
 */
export interface Mutant {
  /** Short, unique within the lesson, kebab-case: `refresh-widens-scopes`. */
  id: string;
  /** A file of the solution folder, relative to it: `provider.ts`. */
  file: string;
  /** Exact text of that file, occurring exactly once. */
  find: string;
  /** What it becomes. */
  replace: string;
  /** The rule the edit breaks, in a few words. */
  rule: string;
  /** The heading (without the `#`s) of the lesson README section that teaches the rule: `TODO 3.8: refresh and revoke (…)`. Matched as a prefix. */
  section: string;
}

/** A catalogue's default export. */
export function mutants(list: Mutant[]): Mutant[] {
  return list;
}
