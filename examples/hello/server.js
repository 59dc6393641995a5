// A tiny app to preview: shows which branch and commit it runs and how often its page was viewed, answers
// /health. No dependencies. The count lives in the `data` volume, so it survives sleep, wake and redeploys.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const port = Number(process.env.PORT ?? 3000);
const branch = process.env.MATINEE_BRANCH ?? 'unknown branch';
const sha = (process.env.MATINEE_SHA ?? 'unknown').slice(0, 7);
const started = new Date().toISOString();
// Matinee says where the volume is: a directory locally, the mount path in a container.
const data = process.env.MATINEE_VOLUME_DATA;
let visits = 0;
const countVisit = () => {
  if (!data) return ++visits;
  const file = join(data, 'visits');
  let count = 0;
  try {
    count = Number.parseInt(readFileSync(file, 'utf8'), 10) || 0;
  } catch {}
  writeFileSync(`${file}.tmp`, String(count + 1));
  renameSync(`${file}.tmp`, file);
  return count + 1;
};
const html = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const path = new URL(request.url ?? '/', 'http://hello').pathname;
  const views = path === '/' ? countVisit() : undefined;
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>hello · ${html(branch)}</title>
<body style="font: 18px system-ui; display: grid; place-items: center; min-height: 90vh">
<main><h1>Hello from <code>${html(branch)}</code></h1>
<p>commit <code id="sha">${html(sha)}</code>, up since ${started}</p>
${views === undefined ? '' : `<p>page views: <span id="visits">${views}</span></p>`}</main></body></html>`);
});

server.listen(port, '127.0.0.1', () => console.log(`hello listening on ${port} (${branch} @ ${sha})`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
