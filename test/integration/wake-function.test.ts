import { afterEach, describe, expect, it } from 'vitest';
import { serveDefaultRule } from '../../functions/wake.ts';
import { hostRequest } from '../support/http.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { testPlatform } from '../support/platform.ts';

const PASSWORD = 'correct-horse-battery';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** functions/wake.ts behind real HTTP as the ALB's Lambda target; the store on DynamoDB Local. */
async function deployed(dashboardPassword = PASSWORD) {
  const { platform } = await testPlatform(undefined, { dashboardPassword });
  const server = await serveLambda('alb', (event) => serveDefaultRule(platform, event));
  closers.push(server.close);
  return { platform, server };
}

const auth = (password: string) => `Basic ${Buffer.from(`me:${password}`).toString('base64')}`;

const request = hostRequest;

describe('the wake function as the ALB default rule', () => {
  it('serves the dashboard on the preview domain only with the password', async () => {
    const { server } = await deployed();

    const anonymous = await request(server.port, 'preview.example.com', '/');
    const signedIn = await request(server.port, 'preview.example.com', '/api/environments', {
      headers: { authorization: auth(PASSWORD) },
    });

    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    expect(signedIn.status).toBe(200);
    expect(JSON.parse(signedIn.body)).toEqual([]);
  });

  it('keeps the dashboard off without a password, and refuses cross-site actions', async () => {
    const off = await deployed('');
    expect((await request(off.server.port, 'preview.example.com', '/')).status).toBe(404);

    const { server } = await deployed();
    const forged = await request(
      server.port,
      'preview.example.com',
      '/api/environments/acme%2Fweb%2342/sleep',
      {
        method: 'POST',
        headers: { authorization: auth(PASSWORD), origin: 'https://evil.example' },
      },
    );
    expect(forged.status).toBe(403);
  });

  it('answers an unknown preview host with a 404 page', async () => {
    const { server } = await deployed();

    const response = await request(server.port, 'nobody-pr9.preview.example.com', '/', {
      headers: { accept: 'text/html' },
    });

    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('text/html');
  });
});
