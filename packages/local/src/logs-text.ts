/** The fields of `GET /api/environments/:id/logs` that `matinee logs` shows. */
export interface EnvironmentLogsAnswer {
  state: string;
  reason?: string;
  lines: string[];
  location?: { url?: string; path?: string };
  unavailable?: string;
}

/** Whether a value from the API is a logs answer (it came from a Matinee, not something else on the port). */
export function isEnvironmentLogs(value: unknown): value is EnvironmentLogsAnswer {
  if (!value || typeof value !== 'object') return false;
  const answer = value as Record<string, unknown>;
  const location = answer.location as Record<string, unknown> | undefined;
  return (
    typeof answer.state === 'string' &&
    (answer.reason === undefined || typeof answer.reason === 'string') &&
    Array.isArray(answer.lines) &&
    answer.lines.every((line) => typeof line === 'string') &&
    (answer.unavailable === undefined || typeof answer.unavailable === 'string') &&
    (location === undefined ||
      (typeof location === 'object' &&
        location !== null &&
        (location.url === undefined || typeof location.url === 'string') &&
        (location.path === undefined || typeof location.path === 'string')))
  );
}

/** What reaches the terminal is text: no escape sequence a stored value could carry moves the cursor. */
const terminalSafe = (text: string) => text.replace(/[\p{Cc}\p{Cf}]/gu, '?');

/**
 * `matinee logs`: the state (and its reason), the app's last lines, then where the whole log is.
 */
export function logsText(name: string, answer: EnvironmentLogsAnswer): string[] {
  const reason = answer.reason ? `: ${terminalSafe(answer.reason)}` : '';
  const lines = [`${name} is ${terminalSafe(answer.state)}${reason}`];
  if (answer.lines.length) {
    lines.push(`last ${answer.lines.length} lines of output:`, ...answer.lines.map(terminalSafe));
  } else {
    lines.push(
      `no output from the app${answer.unavailable ? `: ${terminalSafe(answer.unavailable)}` : ' yet'}`,
    );
  }
  const where = answer.location?.path ?? answer.location?.url;
  if (where) lines.push(`whole log: ${terminalSafe(where)}`);
  return lines;
}
