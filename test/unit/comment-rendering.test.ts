import type { StatusReport } from '@matinee/core';
import { renderComment } from '@matinee/github';
import { describe, expect, it } from 'vitest';

const REPORT: StatusReport = {
  repo: 'acme/web',
  number: 42,
  environment: 'preview/pr-42',
  url: 'https://fix-login-pr42.preview.example.com',
  state: 'ready',
  sha: 'a'.repeat(40),
  costSoFar: 0,
  costPerHour: 0.0123,
  costAt: '2026-11-02T14:05:00.000Z',
  spot: true,
  logs: { url: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:x' },
  dashboardUrl: 'https://preview.example.com/',
  key: 'k',
};

describe('the sticky comment', () => {
  it('starts with a header row of links: preview, commit, logs, dashboard, and when it was updated', () => {
    const lines = renderComment(REPORT).split('\n');

    const at = lines.indexOf('| Preview | Commit | Logs | Dashboard | Updated |');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('|---|---|---|---|---|');
    const cells = (lines[at + 2] ?? '').split(' | ');
    expect(cells).toHaveLength(5);
    expect(cells[0]).toContain('(<https://fix-login-pr42.preview.example.com>)');
    expect(cells[1]).toBe(`[aaaaaaa](<https://github.com/acme/web/pull/42/commits/${'a'.repeat(40)}>)`);
    expect(cells[2]).toBe(
      '[app output](<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:x>)',
    );
    expect(cells[3]).toBe('[all previews](<https://preview.example.com/>)');
    expect(cells[4]).toBe('2026\\-11\\-02 14\\:05 UTC |');
  });

  it('names the log file locally, as text', () => {
    const body = renderComment({ ...REPORT, logs: { path: '/home/me/.matinee/logs/matinee-local-x.log' } });

    expect(body).toContain(' | \\/home\\/me\\/\\.matinee\\/logs\\/matinee\\-local\\-x\\.log | ');
  });

  it('leaves the cost out while it rounds to $0.00, and shows it once it does not', () => {
    expect(renderComment(REPORT)).not.toContain('Cost');
    expect(renderComment({ ...REPORT, costSoFar: 0.12 })).toContain('| Cost | ≈ $0.12 so far');
  });

  it('says what to do next when the preview failed', () => {
    const body = renderComment({
      ...REPORT,
      state: 'failed',
      reason: 'stopped 3 times: app exited (code 1)',
    });

    expect(body).toContain('**Next:** read the reason above and the app output (Logs), push a fix');
    expect(renderComment(REPORT)).not.toContain('**Next:**');
  });
});
