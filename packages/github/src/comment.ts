import { COMMAND_HELP, type StatusReport } from '@matinee/core';

/** Finds Matinee's one comment on a pull request among all others. */
export const COMMENT_MARKER = '<!-- matinee:preview -->';

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

function money(dollars: number): string {
  return `$${dollars.toFixed(2)}`;
}

function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** The sticky comment: what a reviewer needs, in a few lines. */
export function renderComment(report: StatusReport): string {
  const lines = [COMMENT_MARKER, `### ${headline[report.state]} · Matinee preview`, ''];
  const live = report.state !== 'removed' && report.state !== 'not-deployed';
  if (live) lines.push(`**${report.url}** · commit \`${report.sha.slice(0, 7)}\``, '');
  if (report.reason) lines.push('```', report.reason, '```', '');
  const rows: [string, string][] = [];
  if (report.state === 'ready' && report.sleepsAt)
    rows.push(['Sleeps', `when unused, around ${utc(report.sleepsAt)}`]);
  if (report.state === 'asleep') rows.push(['Wake it', 'open the link (or comment `/matinee wake`)']);
  if (report.lastWakeSeconds !== undefined) rows.push(['Last wake', `${report.lastWakeSeconds} s`]);
  // The comment is edited only when the state changes, not as the cost grows: say when it was computed.
  rows.push([
    'Cost',
    `≈ ${money(report.costSoFar)} so far, as of ${utc(report.costAt)} (Fargate${report.spot ? ' Spot' : ''}, $${report.costPerHour.toFixed(4)} per hour awake)`,
  ]);
  if (report.lastCommand) {
    rows.push([
      'Last command',
      `\`${report.lastCommand.text.replace(/`/g, "'")}\` by @${report.lastCommand.user}: ${report.lastCommand.reply}`,
    ]);
  }
  lines.push(
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    '',
  );
  if (report.state !== 'removed') {
    lines.push('<details><summary>Commands</summary>', '', COMMAND_HELP, '', '</details>');
  }
  return lines.join('\n');
}
