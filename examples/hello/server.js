// A tiny app to preview: shows which branch and commit it runs, answers /health. No dependencies.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const branch = process.env.MATINEE_BRANCH ?? 'unknown branch';
const sha = (process.env.MATINEE_SHA ?? 'unknown').slice(0, 7);
const started = new Date().toISOString();
const html = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const server = createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>hello · ${html(branch)}</title>
<body style="font: 18px system-ui; display: grid; place-items: center; min-height: 90vh">
<main><h1>Hello from <code>${html(branch)}</code></h1>
<p>commit <code id="sha">${html(sha)}</code>, up since ${started}</p></main></body></html>`);
});

server.listen(port, '127.0.0.1', () => console.log(`hello listening on ${port} (${branch} @ ${sha})`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
