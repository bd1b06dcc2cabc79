/**
 * Translations stay in step with their English sources: the stamp names the English version, and the
 * two name the same TODO steps. The real files are checked by `npm test`'s "translations" step.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hintLanguage } from '../../shared/lab/hints.ts';
import { stampTranslation, textStamp, translationProblems } from '../../shared/lab/translations.ts';

/** A tiny workshop: a top-level README and one lesson, in English and Chinese. */
function workshop(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'translations-'));
  for (const kind of ['lessons', 'solutions']) {
    mkdirSync(path.join(root, kind, '01-open-server'), { recursive: true });
    writeFileSync(path.join(root, kind, '01-open-server', 'README.md'), 'Do TODO 1.1, then TODO 1.2.\n');
    writeFileSync(path.join(root, kind, '01-open-server', 'README.zh-CN.md'), '先完成 TODO 1.1，再完成 TODO 1.2。\n');
  }
  writeFileSync(path.join(root, 'README.md'), '# Workshop\n');
  writeFileSync(path.join(root, 'README.zh-CN.md'), '# 动手实验\n');
  for (const file of ['README.zh-CN.md', 'lessons/01-open-server/README.zh-CN.md', 'solutions/01-open-server/README.zh-CN.md']) {
    stampTranslation(path.join(root, file), root);
  }
  return root;
}

describe('translations', () => {
  it('are in step right after stamping, and the stamp is the first line', () => {
    const root = workshop();
    expect(translationProblems(root)).toEqual([]);
    expect(readFileSync(path.join(root, 'README.zh-CN.md'), 'utf8')).toMatch(
      new RegExp(`^<!-- translation of README\\.md · sha256 ${textStamp('# Workshop\n')} · .*-->\\n# 动手实验\\n$`),
    );
  });

  it('name the translation when its English source changed later, or when it is missing', () => {
    const root = workshop();
    writeFileSync(path.join(root, 'lessons/01-open-server/README.md'), 'Do TODO 1.1, then TODO 1.2. Now with more.\n');
    mkdirSync(path.join(root, 'lessons/02-stdio-public-client'));
    writeFileSync(path.join(root, 'lessons/02-stdio-public-client/README.md'), 'TODO 2.1\n');
    expect(translationProblems(root)).toEqual([
      { translation: 'lessons/01-open-server/README.zh-CN.md', kind: 'stale', problem: expect.stringContaining('lessons/01-open-server/README.md changed after') },
      { translation: 'lessons/02-stdio-public-client/README.zh-CN.md', kind: 'missing', problem: expect.stringContaining('missing') },
    ]);
  });

  it('name TODO steps the two texts do not share', () => {
    const root = workshop();
    writeFileSync(path.join(root, 'solutions/01-open-server/README.zh-CN.md'), '先完成 TODO 1.1，再完成 TODO 1.3。\n');
    stampTranslation(path.join(root, 'solutions/01-open-server/README.zh-CN.md'), root);
    expect(translationProblems(root).map((entry) => entry.problem)).toEqual([
      'names no TODO 1.2, which the English names',
      'names TODO 1.3, which the English does not',
    ]);
  });

  it('hints follow LAB_LANG first, then the system locale', () => {
    expect(hintLanguage({ LAB_LANG: 'zh-CN', LANG: 'en_US.UTF-8' })).toBe('zh-CN');
    expect(hintLanguage({ LAB_LANG: 'en', LANG: 'zh_CN.UTF-8' })).toBe('en');
    expect(hintLanguage({ LANG: 'zh_CN.UTF-8' })).toBe('zh-CN');
    expect(hintLanguage({ LANG: 'en_GB.UTF-8' })).toBe('en');
    expect(hintLanguage({ LAB_LANG: '', LANG: 'zh_CN.UTF-8' })).toBe('zh-CN');
  });
});
