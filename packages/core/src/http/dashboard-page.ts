import { dashboardScript } from './dashboard-script.ts';
import { escapeHtml } from './pages.ts';

/**
 * Both themes meet WCAG 2.2 AA: text at least 4.5:1 on its background (the state pills too, which are text),
 * control borders and focus rings at least 3:1. Checked with axe in Chromium (test/e2e/dashboard-browser.test.ts).
 */
const style = `
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6e6e73; --bg: #fbfbfd; --line: #d2d2d7; --control: #6e6e73;
  --accent: #5b3ee6; --ok: #1a7f37; --bad: #b42318; --warn: #8a5c00; --field: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --fg: #f5f5f7; --muted: #a1a1a6; --bg: #111114; --line: #3a3a3c;
  --control: #8e8e93; --accent: #a796ff; --ok: #4ac26b; --bad: #ff7b72; --warn: #d29922; --field: #1c1c20; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 76rem; margin: 0 auto; padding: 1rem 1.5rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 0; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.muted, caption, th { color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; padding-bottom: .5rem; }
caption p { margin: .15rem 0; font-size: .85rem; }
th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: .85rem; }
td { overflow-wrap: anywhere; }
code { font: .9em ui-monospace, monospace; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.state { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid currentColor; }
.state.ready { color: var(--ok); } .state.failed { color: var(--bad); }
.state.building, .state.waking, .state.waiting, .state.removing { color: var(--warn); }
.state.asleep, .state.removed, .state.not-deployed { color: var(--muted); }
.open { display: inline-block; margin-top: .25rem; font-weight: 600; }
button { font: inherit; font-size: .85rem; padding: .3rem .65rem; margin: 0 .3rem .3rem 0; border-radius: .4rem;
  border: 1px solid var(--control); background: transparent; color: var(--fg); cursor: pointer; min-height: 24px; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--bad); border-color: var(--bad); }
input { font: inherit; color: var(--fg); background: var(--field); border: 1px solid var(--control); border-radius: .4rem;
  padding: .3rem .5rem; max-width: 100%; }
.reason { white-space: pre-wrap; font-size: .85rem; color: var(--muted); margin-top: .25rem; }
#share { border: 1px solid var(--control); border-radius: .5rem; padding: .75rem 1rem; margin-bottom: 1rem; }
#share p { margin: .25rem 0 .5rem; }
#share-url { width: 100%; font: .85rem ui-monospace, monospace; margin: .25rem 0; }
/* A phone: each preview a card, each cell labelled by its column (the header row is still read by screen readers). */
@media (max-width: 48rem) {
  header, main { padding: .75rem 1rem; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table, tbody, tr, td { display: block; }
  tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
  td { border: 0; padding: .2rem 0; display: grid; grid-template-columns: 7.5rem 1fr; gap: .5rem; }
  td::before { content: attr(data-label); color: var(--muted); font-size: .85rem; }
}
`;

/**
 * The dashboard: one static page whose script reads `GET {api}/environments` every few seconds and patches
 * its rows in place (see dashboard-script.ts), and posts actions to `POST {api}/environments/:id/:action`.
 * No framework; it works with the keyboard and a screen reader, from 390 px wide up.
 */
export function dashboardPage(options: { title?: string; api?: string } = {}): string {
  const api = options.api ?? '/api';
  const title = escapeHtml(options.title ?? 'Matinee');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${style}</style></head>
<body><header><h1>${title}</h1><p class="muted">Every pull request preview, asleep or awake.</p></header>
<main>
<p id="message" role="status" aria-live="polite"></p>
<section id="share" hidden aria-labelledby="share-title">
<h2 id="share-title">Share a link</h2>
<p>Anyone with the link can open <strong id="share-for"></strong> until it expires. <em>New link</em> withdraws every link shared so far.</p>
<form id="share-form"><label for="share-hours">Valid for (hours)</label>
<input id="share-hours" name="hours" type="number" min="1" max="720" step="1" value="24" required>
<button type="submit">Create link</button> <button type="button" id="share-close">Close</button></form>
<div id="share-result" hidden><label for="share-url">Link</label>
<input id="share-url" type="text" readonly autocomplete="off" spellcheck="false">
<button type="button" id="share-copy">Copy link</button> <span id="share-expires" class="muted"></span></div>
</section>
<table><caption><span id="summary">Loading…</span>
<p id="wakes-help">Wakes: how long each of its last wake-ups took, from the first request to a healthy app, newest first.</p></caption>
<thead><tr><th scope="col">Pull request</th><th scope="col">Commit</th><th scope="col">State</th><th scope="col">Last request</th>
<th scope="col">Sleeps</th><th scope="col" aria-describedby="wakes-help"><abbr title="Seconds each recent wake-up took, newest first">Wakes</abbr></th>
<th scope="col">Cost</th><th scope="col">Actions</th></tr></thead>
<tbody id="rows"></tbody></table>
</main>
<script>${dashboardScript(api)}</script></body></html>`;
}
