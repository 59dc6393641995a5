import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeGithub } from './fake-github.ts';

/**
 * GitHub's codeload beside the API stand-in: `GET /repos/{repo}/tarball/{sha}` on `github` redirects here
 * (another origin, as on GitHub), which answers every download with `body` in 64 KiB chunks. Stopped with the
 * returned `stop`; `downloads` counts what was fetched.
 */
export async function serveCodeload(github: FakeGithub, body: Buffer) {
  const downloads: string[] = [];
  const server = createServer((req, res) => {
    downloads.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': String(body.length) });
    let offset = 0;
    const more = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 65_536);
        offset += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  github.codeload = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    downloads,
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}
