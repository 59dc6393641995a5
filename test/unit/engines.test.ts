import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm install` warns (EBADENGINE) for every installed package whose `engines.node` excludes the running
 * Node. These keep the root's `engines` honest: every package installed accepts every Node it promises.
 */
const ROOT = resolve(import.meta.dirname, '../..');

type Version = [number, number, number];

function parseVersion(text: string): { version: Version; given: number } {
  const parts = text.replace(/^v/, '').split('.');
  const number = (i: number) =>
    parts[i] === undefined || /^[x*]$/i.test(parts[i]) ? 0 : Number.parseInt(parts[i], 10);
  const given = parts.filter((part) => /^\d/.test(part)).length;
  return { version: [number(0), number(1), number(2)], given };
}

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The subset of npm's semver ranges that appears in `engines.node`: `||`, `>=`, `>`, `<`, `<=`, `^`, `~`, x-ranges. */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((set) => {
    const comparators = set
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return comparators.every((comparator) => {
      const [, op = '', rest = ''] = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator) ?? [];
      if (rest === '' || rest === '*' || rest === 'x') return true;
      const { version: bound, given } = parseVersion(rest);
      const c = compare(version, bound);
      if (op === '>=') return c >= 0;
      if (op === '>') return c > 0;
      if (op === '<') return c < 0;
      if (op === '<=') return c <= 0;
      if ((op === '' || op === '=') && given === 3) return c === 0;
      const [major, minor] = bound;
      const upper: Version =
        given === 1 || (op === '^' && major > 0) ? [major + 1, 0, 0] : [major, minor + 1, 0];
      return c >= 0 && compare(version, upper) < 0;
    });
  });
}

/** The oldest version each alternative of a range admits: `^20.19.0 || >=22.12.0` → 20.19.0 and 22.12.0. */
function floors(range: string): Version[] {
  return range.split('||').map((set) => parseVersion(/\d[\w.]*/.exec(set)?.[0] ?? '0').version);
}

function installedPackages(dir: string): { name: string; engine?: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.name.startsWith('.')) return [];
    if (entry.name.startsWith('@')) return installedPackages(path);
    const manifest = join(path, 'package.json');
    if (!existsSync(manifest)) return [];
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string;
      version: string;
      engines?: { node?: unknown };
    };
    const engine = typeof pkg.engines?.node === 'string' ? pkg.engines.node : undefined;
    return [{ name: `${pkg.name}@${pkg.version}`, engine }, ...installedPackages(join(path, 'node_modules'))];
  });
}

describe('the Node versions package.json promises', () => {
  const promised = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;

  it('include the Node running the tests', () => {
    expect(satisfies(parseVersion(process.versions.node).version, promised)).toBe(true);
  });

  it('are accepted by every installed package, so npm install does not warn', () => {
    const refusing = installedPackages(join(ROOT, 'node_modules')).flatMap(({ name, engine }) =>
      engine === undefined
        ? []
        : [process.versions.node, ...floors(promised).map((v) => v.join('.'))]
            .filter((node) => !satisfies(parseVersion(node).version, engine))
            .map((node) => `${name} wants node ${engine}, not ${node}`),
    );

    expect(refusing).toEqual([]);
  });

  it('are read the way npm reads a range', () => {
    const v = (text: string) => parseVersion(text).version;
    expect(satisfies(v('20.20.2'), '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies(v('20.18.0'), '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies(v('21.0.0'), '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies(v('20.20.2'), '>=22')).toBe(false);
    expect(satisfies(v('20.20.2'), '>= 20')).toBe(true);
    expect(satisfies(v('20.20.2'), '^10 || ^12 || ^13.7 || ^14 || >=15.0.1')).toBe(true);
    expect(satisfies(v('13.6.0'), '^10 || ^12 || ^13.7 || ^14 || >=15.0.1')).toBe(false);
    expect(satisfies(v('20.20.2'), '^20.0.0 || ^22.0.0 || >=24.0.0')).toBe(true);
    expect(satisfies(v('20.20.2'), '*')).toBe(true);
    expect(satisfies(v('16.0.0'), '>=14.0.0 <16')).toBe(false);
  });
});
