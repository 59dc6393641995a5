import { CliError, EXIT, parseCommandLine } from '@matinee/local';
import { describe, expect, it } from 'vitest';

/** The CliError a command line is refused with. */
function refusal(argv: string[]): CliError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('the CLI command line', () => {
  it.each([['--help'], ['-h'], ['help'], ['open', '--help'], ['ls', '-h']])(
    'reads %j as a request for help',
    (...argv) => {
      expect(parseCommandLine(argv)).toEqual({ command: 'help' });
    },
  );

  it('reads every argument of open', () => {
    expect(parseCommandLine(['open', 'acme/shop', '42', 'fix-login', 'A'.repeat(40)])).toEqual({
      command: 'open',
      repo: 'acme/shop',
      number: 42,
      branch: 'fix-login',
      sha: 'a'.repeat(40),
    });
  });

  it('takes a flag wherever it is written, and never as an argument', () => {
    const merged = { command: 'close', repo: 'acme/shop', number: 42, merged: true };

    expect(parseCommandLine(['close', '--merged', 'acme/shop', '42'])).toEqual(merged);
    expect(parseCommandLine(['close', 'acme/shop', '--merged', '42'])).toEqual(merged);
    expect(parseCommandLine(['ls', '--json'])).toEqual({ command: 'ls', json: true });
  });

  it('refuses a flag the command does not take, instead of using it as the sha', () => {
    const error = refusal(['push', 'acme/shop', '42', '--merged']);

    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message.split('\n')[0]).toBe('push does not take "--merged"');
    expect(error.message).toContain('usage: npm run matinee');
  });

  it('takes what follows -- as arguments', () => {
    expect(refusal(['open', 'acme/shop', '42', '--', '-x']).message).toMatch(/^not a branch name: "-x"/);
  });

  it.each([
    [[], /^a command is needed/],
    [['deploy'], /^unknown command "deploy"/],
    [['open', 'acme/shop', '42'], /^open needs <branch>/],
    [['wake'], /^wake needs <owner\/repo> <pr>/],
    [['sleep', 'acme/shop', '42', 'now'], /^sleep takes at most 2 arguments; "now" is one too many/],
    [['wake', 'acme', '42'], /^expected <owner\/repo>, got "acme"/],
    [['wake', 'acme/shop', '4x2'], /^expected a pull request number, got "4x2"/],
    [['wake', 'acme/shop', '0'], /^expected a pull request number/],
    [['push', 'acme/shop', '42', 'not-a-sha'], /^expected a commit sha \(hex\), got "not-a-sha"/],
    [['open', 'acme/shop', '42', 'two words'], /^not a branch name: "two words"/],
    [['ls', '--all'], /^ls does not take "--all"/],
  ])('refuses %j with usage and status 2', (argv, problem) => {
    const error = refusal(argv);

    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain('Exit status:');
  });

  it('shows a hostile argument as one printable line', () => {
    expect(refusal(['wake', '\u001b[31mred\nline', '1']).message.split('\n')[0]).toBe(
      'expected <owner/repo>, got "?[31mred?line"',
    );
  });
});
