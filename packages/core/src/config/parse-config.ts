import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import {
  type ConfigDefaults,
  type ConfigResult,
  configSchema,
  type LoadedConfig,
  type MatineeConfig,
} from './config.ts';
import { CONFIG_FILE } from './file-name.ts';
import { nearestName } from './nearest-name.ts';

// Reading `.matinee.yml` apart from its schema: the YAML parser (over 100 KB bundled, and CommonJS, so never
// tree-shaken) goes only into the functions that read the file (reconcile, `matinee check`), not into the
// wake function, which reaches the schema's types and the fork label through the environment.

function pathOf(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

/** Enough of zod's schema definitions to walk from the root to the object at a path. */
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      valueType?: SchemaNode;
      element?: SchemaNode;
      in?: SchemaNode;
    };
  };
}

/** The keys the object at `path` of `.matinee.yml` takes (through defaults, optionals, records and lists). */
function keysAt(path: readonly PropertyKey[]): string[] {
  let def = (configSchema as unknown as SchemaNode)._zod.def;
  const rest = [...path];
  for (;;) {
    const wrapped = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (wrapped) {
      def = wrapped._zod.def;
      continue;
    }
    const step = rest.shift();
    if (step === undefined) return Object.keys(def.shape ?? {});
    const next = def.shape?.[String(step)] ?? def.valueType ?? def.element;
    if (!next) return [];
    def = next._zod.def;
  }
}

/** One problem per unknown key, naming where it is and, when obvious, what was meant. */
function unknownKeyProblems(path: readonly PropertyKey[], keys: readonly string[]): string[] {
  const where = path.length ? path.map(String).join('.') : CONFIG_FILE;
  const known = keysAt(path);
  return keys.map((key) => {
    const meant = nearestName(key, known);
    return `\`${key}\` is not a key of ${where}${meant ? ` (did you mean \`${meant}\`?)` : ''}`;
  });
}

/**
 * Parses and validates `.matinee.yml`. Every problem is reported, each with where it is. `defaults` fill
 * `size` and `idle` when the file leaves them out (and are validated like the file's own values).
 */
export function parseConfig(text: string, defaults: ConfigDefaults = {}): ConfigResult {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const line = error.linePos?.[0];
        const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${line ? `line ${line.line}, column ${line.col}` : 'yaml'}: ${message}`;
      }),
    };
  }
  const raw: unknown = document.toJS() ?? {};
  const withDefaults =
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? {
          ...(defaults.size ? { size: defaults.size } : {}),
          ...(defaults.idle ? { idle: `${defaults.idle}s` } : {}),
          ...raw,
        }
      : raw;
  const result = configSchema.safeParse(withDefaults);
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? unknownKeyProblems(issue.path, issue.keys)
          : [`${pathOf(issue.path)}: ${issue.message}`],
      ),
    };
  }
  return { ok: true, value: result.data, digest: configDigest(result.data) };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** Same meaning, same digest: key order and formatting of the file do not matter. */
export function configDigest(config: MatineeConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex')
    .slice(0, 16);
}

export function loadConfig(sha: string, text: string | undefined, defaults?: ConfigDefaults): LoadedConfig {
  if (text === undefined) return { sha, status: 'missing' };
  const result = parseConfig(text, defaults);
  return result.ok
    ? { sha, status: 'ok', digest: result.digest, value: result.value }
    : { sha, status: 'invalid', problems: result.problems };
}
