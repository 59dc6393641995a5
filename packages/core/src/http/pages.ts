/** The pages people see instead of their app: waking, gone, failed, not deployed, unknown. */

import type { AppLogTail } from '../logs/log-tail.ts';
import type { LogLocation } from '../ports.ts';

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
}

const style = `
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6e6e73; --bg: #fbfbfd; --accent: #6b4eff; --bad: #c0362c; }
@media (prefers-color-scheme: dark) { :root { --fg: #f5f5f7; --muted: #a1a1a6; --bg: #111114; --accent: #9d8cff; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; font: 16px/1.5 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
main { width: min(32rem, 100% - 2rem); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); }
code { font: .9em ui-monospace, monospace; }
.bar { height: .5rem; border-radius: .25rem; background: color-mix(in srgb, var(--accent) 20%, transparent); overflow: hidden; margin: 1.25rem 0 .5rem; }
.bar > div { height: 100%; width: 0; background: var(--accent); transition: width 1s linear; }
.error { color: var(--bad); white-space: pre-wrap; }
h2 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
.log { font: .8rem/1.4 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24rem; overflow: auto;
  padding: .75rem; border-radius: .5rem; background: color-mix(in srgb, var(--fg) 6%, var(--bg)); }
main:has(.log) { width: min(56rem, 100% - 2rem); }
button { font: inherit; padding: .5rem 1rem; border-radius: .5rem; border: 1px solid var(--accent); background: var(--accent); color: white; cursor: pointer; }
`;

/**
 * Who is looking at a page. `public`: anyone who has the URL, who is shown only what the URL already told
 * them (the host), never the repository, branch or commit, nor anything of another environment. `allowed`:
 * a viewer an access check let in (private previews, not built yet: every page is `public` today), who
 * also sees the pull request, branch and commit, and failure reasons whole.
 */
export type Viewer = 'public' | 'allowed';

export interface PageContext {
  host: string;
  viewer: Viewer;
  /** The pull request behind the host (`acme/web#42`), its branch and commit: shown to allowed viewers only. */
  about?: { title: string; branch: string; sha: string };
}

function details(context: PageContext): string {
  const { about } = context;
  if (context.viewer !== 'allowed' || !about) return '';
  return `<p class="muted">${escapeHtml(about.title)} · <code>${escapeHtml(about.branch)}</code> · <code>${escapeHtml(
    about.sha.slice(0, 7),
  )}</code></p>`;
}

export function layout(heading: string, context: PageContext, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(heading)} · ${escapeHtml(context.host)}</title><style>${style}</style></head>
<body><main><h1>${escapeHtml(heading)}</h1>${details(context)}${body}</main>${script}</body></html>`;
}

/** Marks Matinee's own status answers, as opposed to the app's once its host rule is on. */
export const STATUS_HEADER = 'x-matinee';

/** Past this many times the estimate, a start is said to take longer than usual. */
export const SLOW_FACTOR = 2;

/** The waking page's line of progress, the same in the page, its script and the status JSON. */
export function progressText(elapsedSeconds: number, estimateSeconds: number): string {
  return elapsedSeconds > SLOW_FACTOR * estimateSeconds
    ? `Taking longer than usual: it usually takes about ${estimateSeconds} s · ${elapsedSeconds} s so far`
    : `Usually takes about ${estimateSeconds} s · ${elapsedSeconds} s so far`;
}

/**
 * The page of a preview that is starting. Its script polls the status about once a second and follows
 * every state it can reach without a reload: still starting, taking longer than usual (past twice the
 * estimate), started (it reloads into the app), failed (the reason and *Try again*, which may fail again),
 * removed, not deployed. The counter is not a live region: only a change of state is announced to screen
 * readers, once. Without the script, a refresh does the same.
 */
export function wakingPage(
  context: PageContext,
  progress: { elapsedSeconds: number; estimateSeconds: number; note?: string },
): string {
  const { elapsedSeconds, estimateSeconds } = progress;
  const percent = Math.min(95, Math.round((elapsedSeconds / Math.max(1, estimateSeconds)) * 100));
  const slow = elapsedSeconds > SLOW_FACTOR * estimateSeconds;
  const body = `
<p id="intro">This preview was asleep. It is starting and this page turns into the app once it is healthy.</p>
<p id="note" class="muted"${progress.note ? '' : ' hidden'}>${escapeHtml(progress.note ?? '')}</p>
<div class="bar" id="bar" role="progressbar" aria-label="Starting" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${percent}"><div id="fill" style="width:${percent}%"></div></div>
<p id="progress" class="muted">${escapeHtml(progressText(elapsedSeconds, estimateSeconds))}</p>
<p id="said" role="status" aria-live="polite">${slow ? 'Taking longer than usual.' : 'Starting.'}</p>
<div id="problem" hidden><p id="problem-text" class="error"></p>
<form id="retry" method="post" action="/__matinee/retry" hidden><button type="submit">Try again</button></form></div>`;
  const script = `<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const heading = document.querySelector('h1');
  let said = $('said').textContent, unreachable = false;
  // Only a change of state is announced: the live region is written when its words change, never per second.
  const say = (words) => { if (words !== said) { said = words; $('said').textContent = words; } };
  const slow = (s) => s.elapsedSeconds > ${SLOW_FACTOR} * s.estimateSeconds;
  const progress = (s) => (slow(s) ? 'Taking longer than usual: it usually takes about ' : 'Usually takes about ')
    + s.estimateSeconds + ' s · ' + s.elapsedSeconds + ' s so far';
  const ends = {
    failed: ['This preview failed to start', 'Failed to start.'],
    gone: ['This preview is gone', 'Removed.'],
    skipped: ['This pull request is not deployed', 'Not deployed.'],
    unknown: ['No preview here', 'No preview here.'],
  };
  function end(s) {
    const [title, words] = ends[s.state];
    heading.textContent = title; document.title = title + ' · ' + location.hostname;
    for (const id of ['intro', 'note', 'bar', 'progress']) $(id).hidden = true;
    $('problem').hidden = false; $('problem-text').textContent = s.message;
    $('retry').hidden = s.state !== 'failed';
    say(words);
  }
  async function poll() {
    try {
      const response = await fetch('/__matinee/status', { cache: 'no-store', headers: { accept: 'application/json' } });
      // Not Matinee answering: the host rule is on and the app itself is serving this host.
      if (response.headers.get('${STATUS_HEADER}') !== 'status') return location.reload();
      const s = await response.json();
      unreachable = false;
      if (s.ready) return location.reload();
      if (ends[s.state]) return end(s);
      if (s.state === 'ready') { say('Started; opening the app.'); $('progress').textContent = s.message; }
      else {
        const percent = Math.min(95, Math.round(s.elapsedSeconds / Math.max(1, s.estimateSeconds) * 100));
        $('fill').style.width = percent + '%'; $('bar').setAttribute('aria-valuenow', String(percent));
        $('progress').textContent = progress(s);
        say(slow(s) ? 'Taking longer than usual.' : 'Starting.');
      }
    } catch (e) {
      if (!unreachable) { unreachable = true; $('progress').textContent = 'Waiting for Matinee to answer…'; }
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
</script>`;
  return layout('Waking up…', context, body, script);
}

export function gonePage(context: PageContext, message: string): string {
  return layout('This preview is gone', context, `<p>${escapeHtml(message)}</p>`);
}

export function unknownPage(context: PageContext): string {
  return layout(
    'No preview here',
    context,
    `<p>No pull request preview lives at <code>${escapeHtml(context.host)}</code>.</p>`,
  );
}

export function notDeployedPage(context: PageContext, reason: string): string {
  return layout('This pull request is not deployed', context, `<p class="error">${escapeHtml(reason)}</p>`);
}

/**
 * What explains a failure beyond its reason, for allowed viewers only: the health check the app had to pass
 * and the last lines it wrote (already cleaned, see cleanLogLines; escaped here).
 */
export interface FailureDiagnosis {
  /** `GET /health on port 3000`, as configured. */
  healthCheck?: string;
  tail: AppLogTail;
}

function logLink(location: LogLocation | undefined): string {
  if (location?.url && /^https:\/\//i.test(location.url))
    return `<a href="${escapeHtml(location.url)}" rel="noreferrer">the whole log</a>`;
  if (location?.path) return `<code>${escapeHtml(location.path)}</code>`;
  return '';
}

function diagnosisHtml(diagnosis: FailureDiagnosis): string {
  const { healthCheck, tail } = diagnosis;
  const parts: string[] = [];
  if (healthCheck) parts.push(`<p class="muted">Health check: <code>${escapeHtml(healthCheck)}</code></p>`);
  const where = logLink(tail.location);
  const heading = tail.lines.length
    ? `The app’s last ${tail.lines.length === 1 ? 'line' : `${tail.lines.length} lines`} of output`
    : `No output from the app${tail.unavailable ? `: ${escapeHtml(tail.unavailable)}` : ''}`;
  parts.push(`<h2>${heading}</h2>`);
  if (tail.lines.length)
    parts.push(
      `<pre class="log" tabindex="0">${tail.lines.map((line) => escapeHtml(line)).join('\n')}</pre>`,
    );
  if (where) parts.push(`<p class="muted">All of it: ${where}</p>`);
  return parts.join('\n');
}

const TRY_AGAIN = `<form method="post" action="/__matinee/retry"><button type="submit">Try again</button></form>
<p class="muted">A new push to the pull request also tries again.</p>`;
// Not the retry form: the app may be serving this host again by the time it is pressed, and would get the post.
const RELOAD = `<p><a href="">Reload the page</a> to ask again: an app that crashed is started again.</p>`;

/**
 * `reason` as the viewer may see it (see `publicReason`); the diagnosis only when given, which the caller
 * does for an allowed viewer only: app output can name anything. `lost`: the app stopped answering a request
 * it was serving (the heading and the way out say so), rather than failing to start.
 */
export function failedPage(
  context: PageContext,
  reason: string,
  diagnosis?: FailureDiagnosis,
  lost = false,
): string {
  return layout(
    lost ? 'The preview stopped answering' : 'This preview failed to start',
    context,
    `<p class="error">${escapeHtml(reason)}</p>
${diagnosis && context.viewer === 'allowed' ? diagnosisHtml(diagnosis) : ''}
${lost ? RELOAD : TRY_AGAIN}`,
  );
}

/** Over a wake limit (`wake`), or the failed page's retry limit (`retry`): nothing was started. */
export function limitedPage(context: PageContext, what: 'wake' | 'retry', retryAfterSeconds: number): string {
  const when = retryAfterSeconds < 60 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} min`;
  const body =
    what === 'wake'
      ? `<p>This preview is asleep. Previews are woken only so often, each one and by each visitor, and that
limit is reached for now: nothing was woken.</p>`
      : '<p>This preview was tried again too often lately: nothing was started.</p>';
  return layout(
    what === 'wake' ? 'Too many wake-ups' : 'Too many tries',
    context,
    `${body}\n<p class="muted">Try again in ${escapeHtml(when)}.</p>`,
  );
}

export function refusedPage(context: PageContext, message: string): string {
  return layout('Not allowed', context, `<p>${escapeHtml(message)}</p>`);
}
