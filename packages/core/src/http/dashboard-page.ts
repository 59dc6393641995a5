/**
 * The dashboard: one static page that reads `GET {api}/environments` and posts actions to
 * `POST {api}/environments/:id/:action`. No framework; it works with the keyboard and a screen reader.
 */
export function dashboardPage(options: { title?: string; api?: string } = {}): string {
  const api = options.api ?? '/api';
  const title = options.title ?? 'Matinee';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<&]/g, '')}</title>
<style>
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6e6e73; --bg: #fbfbfd; --line: #d2d2d7; --accent: #6b4eff; }
@media (prefers-color-scheme: dark) { :root { --fg: #f5f5f7; --muted: #a1a1a6; --bg: #111114; --line: #3a3a3c; --accent: #9d8cff; } }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 0; }
.muted { color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
caption { text-align: left; color: var(--muted); padding-bottom: .5rem; }
th, td { text-align: left; padding: .55rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: .85rem; color: var(--muted); }
code { font: .9em ui-monospace, monospace; }
a { color: var(--accent); }
.state { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid currentColor; }
.state.ready { color: #1a7f37; } .state.failed { color: #c0362c; } .state.asleep, .state.removed { color: var(--muted); }
.state.building, .state.waking { color: #9a6700; }
button { font: inherit; font-size: .85rem; padding: .2rem .6rem; margin: 0 .25rem .25rem 0; border-radius: .4rem;
  border: 1px solid var(--line); background: transparent; color: var(--fg); cursor: pointer; }
button:hover, button:focus-visible { border-color: var(--accent); }
.reason { white-space: pre-wrap; font-size: .85rem; color: var(--muted); margin-top: .25rem; }
</style></head>
<body><header><h1>${title.replace(/[<&]/g, '')}</h1><p class="muted">Every pull request preview, asleep or awake.</p></header>
<main>
<p id="message" role="status" aria-live="polite" class="muted"></p>
<table><caption id="summary">Loading…</caption>
<thead><tr><th scope="col">Pull request</th><th scope="col">Commit</th><th scope="col">State</th><th scope="col">Last request</th>
<th scope="col">Sleeps</th><th scope="col">Wakes</th><th scope="col">Cost</th><th scope="col">Actions</th></tr></thead>
<tbody id="rows"></tbody></table>
</main>
<script>
(() => {
  const api = ${JSON.stringify(api)};
  const rows = document.getElementById('rows'), summary = document.getElementById('summary'), message = document.getElementById('message');
  const text = (tag, value, cls) => { const el = document.createElement(tag); if (cls) el.className = cls; el.textContent = value ?? ''; return el; };
  const ago = (iso) => { if (!iso) return '—'; const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago'; };
  const until = (iso) => { if (!iso) return '—'; const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
    return s <= 0 ? 'soon' : s < 3600 ? 'in ' + Math.round(s / 60) + ' min' : 'in ' + Math.round(s / 3600) + ' h'; };
  async function act(id, action) {
    if (action === 'reset-data' && !confirm('Delete the data in the volumes of ' + id + '?')) return;
    message.textContent = action + '…';
    const response = await fetch(api + '/environments/' + encodeURIComponent(id) + '/' + action, { method: 'POST' });
    const body = await response.json().catch(() => ({}));
    message.textContent = id + ': ' + (body.message ?? response.statusText);
    load();
  }
  function row(env) {
    const tr = document.createElement('tr'); tr.dataset.id = env.id;
    const pr = document.createElement('td');
    const link = text('a', env.repo + '#' + env.number); link.href = env.url; pr.append(link, document.createElement('br'), text('code', env.branch));
    const state = document.createElement('td'); state.append(text('span', env.state, 'state ' + env.state));
    if (env.reason) state.append(text('div', env.reason, 'reason'));
    const actions = document.createElement('td');
    for (const action of ['wake', 'sleep', 'redeploy', 'reset-data', 'remove']) {
      if (env.state === 'removed') break;
      const button = text('button', action); button.type = 'button';
      button.setAttribute('aria-label', action + ' ' + env.repo + '#' + env.number);
      button.addEventListener('click', () => act(env.id, action)); actions.append(button);
    }
    const wakes = env.wakes.filter((w) => w.seconds !== undefined).map((w) => w.seconds + ' s').join(', ') || '—';
    tr.append(pr, (() => { const td = document.createElement('td'); td.append(text('code', env.sha.slice(0, 7))); return td; })(), state,
      text('td', ago(env.lastRequestAt)), text('td', env.state === 'ready' ? until(env.sleepsAt) : '—'), text('td', wakes),
      text('td', '$' + env.costSoFar.toFixed(2) + ' (' + '$' + env.costPerHour.toFixed(3) + '/h awake)'), actions);
    return tr;
  }
  async function load() {
    try {
      const response = await fetch(api + '/environments', { cache: 'no-store' });
      const list = await response.json();
      rows.replaceChildren(...list.map(row));
      const awake = list.filter((e) => e.state === 'ready' || e.state === 'waking' || e.state === 'building').length;
      summary.textContent = list.length ? list.length + (list.length === 1 ? ' environment, ' : ' environments, ') + awake + ' awake' : 'No environments yet: open a pull request.';
    } catch (e) { summary.textContent = 'Cannot reach Matinee.'; }
  }
  load(); setInterval(load, 3000);
})();
</script></body></html>`;
}
