import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseConfig } from '@matinee/core';

/**
 * Why `npm start` should not start with this `.matinee.yml` (MATINEE_CONFIG): every problem the core would
 * report on a pull request, one line each, prefixed by the file. Empty when it is valid.
 */
export async function localConfigProblems(configPath: string, cwd: string): Promise<string[]> {
  const inside = relative(cwd, configPath);
  const shown = inside && !inside.startsWith('..') ? inside : configPath;
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code;
    return [`${shown}: ${why ?? String(error)} (MATINEE_CONFIG names it)`];
  }
  const result = parseConfig(text);
  return result.ok ? [] : result.problems.map((problem) => `${shown}: ${problem.replace(/\s*\n\s*/g, ' ')}`);
}
