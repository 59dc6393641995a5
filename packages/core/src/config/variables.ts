/** What an environment variable's name must look like, in `.matinee.yml` and in `/matinee env`. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Variables a loader, shell or language runtime reads to load code or find programs: set on a preview,
 * they run something other than the app's own code (a library preloaded into every process, a script
 * sourced by every shell, a module required by every Node process, another `node` found first on PATH).
 * `/matinee env` is a comment, not a commit, so it may not set them; a repository that needs one puts it in
 * `.matinee.yml`, where it is reviewed with the code.
 */
const CODE_LOADING = new Set([
  'PATH',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'IFS',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONINSPECT',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'HOSTALIASES',
  'LOCPATH',
  'NLSPATH',
]);
/** Every dynamic loader variable (glibc `LD_*`, macOS `DYLD_*`), not only today's known ones. */
const CODE_LOADING_PREFIXES = ['LD_', 'DYLD_'];

/** Why `name` may not be set by `/matinee env`, or undefined when it may. */
export function refusedVariable(name: string): string | undefined {
  // Not echoed: a name that fails the pattern may be anything (it may come from a tampered record).
  if (!VARIABLE_NAME.test(name)) return 'a variable name must be letters, digits and _';
  const upper = name.toUpperCase();
  if (CODE_LOADING.has(upper) || CODE_LOADING_PREFIXES.some((prefix) => upper.startsWith(prefix)))
    // Plain text, as every reply: the sticky comment escapes it.
    return `${name} cannot be set with /matinee env: it makes the runtime load or run other code (set it in .matinee.yml instead)`;
  return undefined;
}

/**
 * Why stored `/matinee env` variables cannot be used, or undefined. They are read back from the store, so
 * they are checked again each time a task is made from them: names as `/matinee env` allows, string values
 * without NUL (which no process environment can hold).
 */
export function overridesProblem(overrides: unknown): string | undefined {
  if (overrides === undefined) return undefined;
  if (!overrides || typeof overrides !== 'object' || Array.isArray(overrides))
    return 'the stored `/matinee env` variables are not a map of names to values';
  for (const [name, value] of Object.entries(overrides)) {
    const refused = refusedVariable(name);
    if (refused) return `stored variable refused: ${refused}`;
    if (typeof value !== 'string' || value.includes('\0'))
      return `stored variable ${name} does not have a text value`;
  }
  return undefined;
}
