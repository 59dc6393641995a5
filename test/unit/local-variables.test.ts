import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEPLOY_VARIABLES, KNOWN_VARIABLES, LOCAL_VARIABLES, unknownVariableWarnings } from '@matinee/local';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../../stacks/settings.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('MATINEE_* variables nothing reads', () => {
  it('are each warned about in one line, with the variable that was obviously meant', () => {
    const warnings = unknownVariableWarnings({
      MATINEE_PROT: '9090',
      MATINEE_CONFIG_FILE: 'x.yml',
      MATINEE_COLOUR: 'blue',
      matinee_port: '1',
    });

    expect(warnings).toEqual([
      'MATINEE_COLOUR is not a variable Matinee reads: ignored',
      'MATINEE_CONFIG_FILE is not a variable Matinee reads: ignored (did you mean MATINEE_CONFIG?)',
      'MATINEE_PROT is not a variable Matinee reads: ignored (did you mean MATINEE_PORT?)',
      'matinee_port is not a variable Matinee reads: ignored (did you mean MATINEE_PORT?)',
    ]);
  });

  it("say nothing of local mode's, the deploy's, or other programs' variables", () => {
    const env = Object.fromEntries([...KNOWN_VARIABLES].map((name) => [name, 'x']));

    expect(unknownVariableWarnings({ ...env, PATH: '/bin', MATINEEX: '1' })).toEqual([]);
  });

  it('show a name from the shell as one printable line', () => {
    expect(unknownVariableWarnings({ 'MATINEE_\u001b[2J': '1' })).toEqual([
      'MATINEE_?[2J is not a variable Matinee reads: ignored',
    ]);
  });
});

describe('the list of known variables', () => {
  it('has every variable sst deploy reads', () => {
    expect([...DEPLOY_VARIABLES].sort()).toEqual(Object.keys(VARIABLES).sort());
  });

  /** MATINEE_* names in the files of a folder, read as process.env.X, env.X or `export X=` (CI). */
  function namesIn(dir: string, pattern: RegExp, except?: string): string[] {
    return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.(ts|mjs)$|^run$/.test(entry.name) && entry.name !== except)
      .flatMap((entry) => [...readFileSync(join(entry.parentPath, entry.name), 'utf8').matchAll(pattern)])
      .map((match) => match[1] ?? '');
  }

  it("has every variable local mode's source names (beside the list itself)", () => {
    const named = namesIn('packages/local/src', /\b(MATINEE_[A-Z0-9_]+)\b/g, 'local-variables.ts');

    expect(named.filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
    expect(named).toEqual(expect.arrayContaining([...LOCAL_VARIABLES]));
  });

  it('has every variable the tests, bench and CI read', () => {
    const read = /(?:env\.|export )(MATINEE_[A-Z0-9_]+)/g;
    const named = [...namesIn('test', read), ...namesIn('bench', read), ...namesIn('.ci', read)];

    expect(named.filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
  });
});
