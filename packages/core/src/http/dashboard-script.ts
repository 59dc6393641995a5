/**
 * The dashboard's script. It reads the environments every few seconds (and right after an action) and
 * patches the table in place, row by row by id and cell by cell, only where something changed: a button
 * that is still offered is the same element after an update, so keyboard focus and the scroll position
 * survive every refresh. Everything shown goes in as text (textContent), never as HTML; links are set
 * only to http(s) addresses. A share link is shown for copying and goes nowhere else (no console, no storage).
 */
export function dashboardScript(api: string): string {
  // JSON is valid JavaScript; `<` escaped so that no value can close the script element.
  const apiLiteral = JSON.stringify(api).replace(/</g, '\\u003c');
  return `
(() => {
  const api = ${apiLiteral};
  const $ = (id) => document.getElementById(id);
  const rows = $('rows'), summary = $('summary'), message = $('message');
  const LABELS = { wake: 'Wake', sleep: 'Sleep', redeploy: 'Redeploy', 'reset-data': 'Reset data',
    share: 'Share link', 'rotate-link': 'New link', remove: 'Remove' };
  const CONFIRM = {
    remove: (name) => 'Remove the preview of ' + name + '? Its app stops and its data is deleted; a new push does not bring it back.',
    'reset-data': (name) => 'Delete the data in the volumes of ' + name + '? The seed runs again when it next starts.',
    'rotate-link': (name) => 'Make a new link for ' + name + '? The current link, every shared link and the cookies they set stop working.',
  };
  const COLUMNS = ['Pull request', 'Commit', 'State', 'Last request', 'Sleeps', 'Wakes', 'Cost', 'Actions'];
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const web = (url) => (typeof url === 'string' && /^https?:\\/\\//i.test(url) ? url : undefined);
  const ago = (iso) => { if (!iso) return '—'; const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s / 60) + ' min ago' : Math.round(s / 3600) + ' h ago'; };
  const until = (iso) => { if (!iso) return '—'; const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
    return s <= 0 ? 'soon' : s < 60 ? 'in ' + s + ' s' : s < 3600 ? 'in ' + Math.round(s / 60) + ' min' : 'in ' + Math.round(s / 3600) + ' h'; };
  const nameOf = (env) => env.repo + '#' + env.number;
  const keys = new WeakMap();
  /** Rebuilds a cell only when what it shows changed. */
  const fill = (cell, key, build) => { if (keys.get(cell) === key) return; keys.set(cell, key); cell.replaceChildren(...build()); };
  const known = new Map();
  let shareFor;

  function newRow(id) {
    const tr = document.createElement('tr'); tr.dataset.id = id;
    for (const label of COLUMNS) { const td = document.createElement('td'); td.dataset.label = label; tr.append(td); }
    return tr;
  }
  function button(env, action) {
    const b = el('button', LABELS[action] ?? action); b.type = 'button'; b.dataset.action = action;
    if (action === 'remove') b.className = 'danger';
    b.addEventListener('click', () => (action === 'share' ? openShare(b.env) : act(b.env, action)));
    return b;
  }
  /** Keeps the buttons still offered (the same elements: focus stays on them), drops the others, adds new ones. */
  function actions(cell, env) {
    if (!env.actions.length) { if (cell.textContent !== '—') cell.replaceChildren('—'); return; }
    for (const node of [...cell.childNodes]) if (node.nodeName !== 'BUTTON' || !env.actions.includes(node.dataset.action)) node.remove();
    const present = new Map([...cell.children].map((b) => [b.dataset.action, b]));
    env.actions.forEach((action, i) => {
      const b = present.get(action) ?? button(env, action);
      b.env = env; b.setAttribute('aria-label', b.textContent + ' ' + nameOf(env));
      if (cell.children[i] !== b) cell.insertBefore(b, cell.children[i] ?? null);
    });
  }
  function update(tr, env) {
    const [pr, commit, state, last, sleeps, wakes, cost, acts] = tr.children;
    const url = env.state === 'removed' ? undefined : web(env.url);
    fill(pr, JSON.stringify([nameOf(env), env.branch, url]), () => {
      const parts = [el('strong', nameOf(env)), el('br'), el('code', env.branch)];
      if (url) { const open = el('a', 'Open', 'open'); open.href = url; open.rel = 'noreferrer';
        open.setAttribute('aria-label', 'Open ' + nameOf(env)); parts.push(el('br'), open); }
      return parts;
    });
    fill(commit, env.sha, () => [el('code', env.sha.slice(0, 7))]);
    const buildLog = web(env.buildLog);
    fill(state, JSON.stringify([env.state, env.reason, buildLog]), () => {
      const parts = [el('span', env.state, 'state ' + env.state)];
      if (env.reason) parts.push(el('div', env.reason, 'reason'));
      if (buildLog) { const log = el('a', 'Build log'); log.href = buildLog; log.rel = 'noreferrer'; parts.push(log); }
      return parts;
    });
    last.textContent = ago(env.lastRequestAt);
    sleeps.textContent = env.state === 'ready' ? until(env.sleepsAt) : '—';
    wakes.textContent = env.wakes.filter((w) => typeof w.seconds === 'number').map((w) => w.seconds + ' s').join(', ') || '—';
    cost.textContent = '$' + env.costSoFar.toFixed(2) + ' ($' + env.costPerHour.toFixed(3) + '/h awake)';
    actions(acts, env);
  }
  /** Puts every row in place; a row that moves and held focus gets it back, without scrolling. */
  function patch(list) {
    const focused = document.activeElement, row = focused && focused.closest && focused.closest('tr[data-id]');
    const action = focused && focused.dataset && focused.dataset.action;
    const seen = new Set();
    list.forEach((env, i) => {
      seen.add(env.id);
      let tr = known.get(env.id);
      if (!tr) { tr = newRow(env.id); known.set(env.id, tr); }
      update(tr, env);
      if (rows.children[i] !== tr) rows.insertBefore(tr, rows.children[i] ?? null);
    });
    for (const [id, tr] of known) if (!seen.has(id)) { tr.remove(); known.delete(id); }
    if (!focused || document.activeElement === focused || focused === document.body) return;
    if (focused.isConnected) return focused.focus({ preventScroll: true });
    // Its button is no longer offered (it just did its job): the row's first button takes focus, not the page.
    const next = row && row.isConnected && row.querySelector('button, a');
    if (next && action) next.focus({ preventScroll: true });
  }
  async function act(env, action) {
    const name = nameOf(env);
    if (CONFIRM[action] && !confirm(CONFIRM[action](name))) return;
    message.textContent = name + ': ' + (LABELS[action] ?? action).toLowerCase() + '…';
    try {
      const response = await fetch(api + '/environments/' + encodeURIComponent(env.id) + '/' + action, { method: 'POST' });
      const body = await response.json().catch(() => ({}));
      message.textContent = name + ': ' + (body.message ?? response.statusText);
    } catch (e) { message.textContent = name + ': Matinee did not answer.'; }
    load();
  }
  function openShare(env) {
    shareFor = env;
    $('share-for').textContent = nameOf(env);
    $('share-result').hidden = true; $('share-url').value = '';
    $('share').hidden = false; $('share-hours').focus();
  }
  $('share-close').addEventListener('click', () => {
    const id = shareFor && shareFor.id; $('share').hidden = true; $('share-url').value = ''; shareFor = undefined;
    const back = id && known.get(id) && known.get(id).querySelector('button[data-action="share"]');
    if (back) back.focus();
  });
  $('share-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!shareFor) return;
    const env = shareFor, hours = $('share-hours').value;
    try {
      const response = await fetch(api + '/environments/' + encodeURIComponent(env.id) + '/share?hours=' + encodeURIComponent(hours), { method: 'POST' });
      const body = await response.json().catch(() => ({}));
      if (!response.ok || !web(body.url)) { message.textContent = nameOf(env) + ': ' + (body.message ?? response.statusText); return; }
      $('share-url').value = body.url;
      $('share-expires').textContent = 'Expires ' + new Date(body.expiresAt).toLocaleString() + '.';
      $('share-result').hidden = false; $('share-url').focus(); $('share-url').select();
      message.textContent = nameOf(env) + ': link created, valid for ' + hours + ' h.';
    } catch (e) { message.textContent = nameOf(env) + ': Matinee did not answer.'; }
  });
  $('share-copy').addEventListener('click', async () => {
    const field = $('share-url');
    try { await navigator.clipboard.writeText(field.value); message.textContent = 'Link copied.'; }
    catch (e) { field.focus(); field.select(); message.textContent = 'Select the link and copy it.'; }
  });
  async function load() {
    try {
      const response = await fetch(api + '/environments', { cache: 'no-store' });
      if (!response.ok) throw new Error(String(response.status));
      const list = await response.json();
      patch(list);
      const awake = list.filter((e) => e.state === 'ready' || e.state === 'waking' || e.state === 'building').length;
      const words = list.length ? list.length + (list.length === 1 ? ' environment, ' : ' environments, ') + awake + ' awake' : 'No environments yet: open a pull request.';
      if (summary.textContent !== words) summary.textContent = words;
    } catch (e) { summary.textContent = 'Cannot reach Matinee.'; }
  }
  load(); setInterval(load, 3000);
})();
`;
}
