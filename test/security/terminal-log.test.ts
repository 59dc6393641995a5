import type { EnvironmentStore, StatusReport } from '@matinee/core';
import { linkWithToken } from '@matinee/core';
import { ConsoleLogger, LocalSourceControl } from '@matinee/local';
import { describe, expect, it } from 'vitest';

/**
 * What local mode writes to the developer's terminal. No link secret may be in it (README: "no token or
 * cookie value is ever logged"), and nothing a pull request, a webhook or an app wrote may drive the
 * terminal (escape sequences set its title, write the clipboard with OSC 52, hide or fake lines).
 */
const secret = '0123456789abcdef0123456789abcdef';

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    repo: 'acme/web',
    number: 7,
    environment: 'pr-7',
    // What publishedLink gives in `link` mode on a private repository (a webhook forwarded from GitHub).
    url: linkWithToken('http://pr-7.localhost:8080', secret),
    state: 'ready',
    sha: 'a'.repeat(40),
    costSoFar: 0,
    costPerHour: 0,
    costAt: '2026-01-01T00:00:00.000Z',
    spot: false,
    key: 'k',
    ...overrides,
  };
}

function capture(): { lines: string[]; logger: ConsoleLogger } {
  const lines: string[] = [];
  return { lines, logger: new ConsoleLogger((line) => lines.push(line), 'debug') };
}

describe("local mode's terminal log", () => {
  it('never carries a private preview’s link secret when it says what would be posted', async () => {
    const { lines, logger } = capture();
    const source = new LocalSourceControl({
      configPath: '/nonexistent/.matinee.yml',
      store: {} as EnvironmentStore,
      log: logger,
    });

    await source.publish(report());

    expect(lines.join('\n')).toContain('http://pr-7.localhost:8080');
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('shows hostile text as text: no escape sequence reaches the terminal, no line is forged', async () => {
    const { lines, logger } = capture();
    const source = new LocalSourceControl({
      configPath: '/nonexistent/.matinee.yml',
      store: {} as EnvironmentStore,
      log: logger,
    });
    const hostile =
      'bad key \u001b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u0007\u001b[2K\r\n12:00:00 info  all good';

    await source.publish(report({ state: 'failed', reason: hostile }));
    logger.warn(`message \u001b]0;title\u0007 end\nforged`, { error: hostile });

    expect(lines).toHaveLength(2);
    for (const line of lines) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(line).toContain('all good');
    }
  });
});
