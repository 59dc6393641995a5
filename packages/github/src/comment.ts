import { COMMAND_HELP, fenced, inline, link, type StatusReport, urlWithoutToken } from '@matinee/core';

/** Finds Matinee's one comment on a pull request among all others: its first line, and only there. */
export const COMMENT_MARKER = '<!-- matinee:preview -->';

export interface CommentOptions {
  /** GitHub's web address, for links to commits: https://github.com, or a GitHub Enterprise Server's. */
  web?: string;
}

const headline: Record<StatusReport['state'], string> = {
  building: '🛠️ Building',
  waiting: '⏳ Waiting for approval',
  waking: '⏰ Waking up',
  ready: '✅ Ready',
  asleep: '💤 Asleep',
  failed: '❌ Failed',
  'not-deployed': '⏸️ Not deployed',
  removing: '🧹 Removing',
  removed: '🗑️ Removed',
};

/** What to do about a failure, in words: the reason above says why, the logs say more. */
const NEXT_STEP_ON_FAILURE =
  'read the reason above and the app output (Logs), push a fix, or comment `/matinee redeploy` to try this commit again (the preview page has a *Try again* button too).';

function money(dollars: number): string {
  return `$${dollars.toFixed(2)}`;
}

function utc(iso: string): string {
  return inline(`${iso.slice(0, 16).replace('T', ' ')} UTC`);
}

/**
 * The sticky comment: what a reviewer needs, in a few lines. Every value that did not come from this file
 * (URLs, shas, reasons, usernames, command text and replies) goes through `inline`, `fenced` or `link`, so
 * the comment has the same headings, rows and blocks whatever they contain.
 */
export function renderComment(report: StatusReport, options: CommentOptions = {}): string {
  const web = options.web ?? 'https://github.com';
  const commit = (sha: string) =>
    link(sha.slice(0, 7), `${web}/${report.repo}/pull/${report.number}/commits/${sha}`);
  const lines = [COMMENT_MARKER, `### ${headline[report.state]} · Matinee preview`, ''];
  const live = report.state !== 'removed' && report.state !== 'not-deployed';
  // One row of links: the preview, its commit, its output, the dashboard, and when this was written.
  const header: [string, string][] = [];
  // A private preview's link carries its token: shown without it, opened with it.
  if (live)
    header.push(['Preview', link(urlWithoutToken(report.url), report.url)], ['Commit', commit(report.sha)]);
  if (live && report.buildLog) header.push(['Build', link('build log', report.buildLog)]);
  if (live && report.logs?.url) header.push(['Logs', link('app output', report.logs.url)]);
  else if (live && report.logs?.path) header.push(['Logs', inline(report.logs.path)]);
  if (report.dashboardUrl) header.push(['Dashboard', link('all previews', report.dashboardUrl)]);
  header.push(['Updated', utc(report.costAt)]);
  lines.push(
    `| ${header.map(([name]) => name).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    `| ${header.map(([, value]) => value).join(' | ')} |`,
    '',
  );
  if (report.approval) {
    const { sha, approved } = report.approval;
    const before = approved
      ? ` ${inline(`@${approved.user}`)} approved ${commit(approved.sha)} before: a push needs a new approval.`
      : '';
    lines.push(
      `**Commit ${commit(sha)} from the fork waits for a maintainer's approval.**${before} ` +
        `After reviewing it, comment **${inline(`/matinee approve ${sha.slice(0, 7)}`)}** to deploy exactly that commit.`,
      '',
    );
  }
  if (report.reason) lines.push(fenced(report.reason), '');
  if (report.state === 'failed') lines.push(`**Next:** ${NEXT_STEP_ON_FAILURE}`, '');
  const rows: [string, string][] = [];
  if (report.state === 'ready' && report.sleepsAt)
    rows.push(['Sleeps', `when unused, around ${utc(report.sleepsAt)}`]);
  if (report.state === 'asleep') rows.push(['Wake it', 'open the link (or comment `/matinee wake`)']);
  if (report.lastWakeSeconds !== undefined)
    rows.push(['Last wake', `${inline(String(report.lastWakeSeconds))} s`]);
  // The comment is edited only when the state changes, not as the cost grows: say when it was computed.
  // Nothing to say while it rounds to nothing.
  if (money(report.costSoFar) !== '$0.00')
    rows.push([
      'Cost',
      `≈ ${money(report.costSoFar)} so far, as of ${utc(report.costAt)} (Fargate${report.spot ? ' Spot' : ''}, $${report.costPerHour.toFixed(4)} per hour awake)`,
    ]);
  if (report.lastCommand) {
    const { text, user, reply } = report.lastCommand;
    rows.push(['Last command', `${inline(text)} by ${inline(`@${user}`)}: ${inline(reply)}`]);
  }
  if (rows.length) lines.push('| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '');
  if (report.state !== 'removed') {
    lines.push('<details><summary>Commands</summary>', '', COMMAND_HELP, '', '</details>');
  }
  return lines.join('\n');
}
