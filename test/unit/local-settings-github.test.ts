import { readLocalSettings } from '@matinee/local';
import { describe, expect, it } from 'vitest';

describe('npm start settings for github mode', () => {
  it('reads the OAuth client and where GitHub is, and takes the client secret out of the environment', () => {
    const env: NodeJS.ProcessEnv = {
      MATINEE_ACCESS: 'github',
      MATINEE_GITHUB_CLIENT_ID: 'Iv1.abc',
      MATINEE_GITHUB_CLIENT_SECRET: 'shh',
      MATINEE_GITHUB_OAUTH_URL: 'http://127.0.0.1:9000',
      MATINEE_GITHUB_API_URL: 'http://127.0.0.1:9000/api',
    };

    const settings = readLocalSettings(env, '/repo');

    expect(settings.github).toEqual({
      clientId: 'Iv1.abc',
      clientSecret: 'shh',
      oauthUrl: 'http://127.0.0.1:9000',
      apiUrl: 'http://127.0.0.1:9000/api',
    });
    expect(env.MATINEE_GITHUB_CLIENT_SECRET).toBeUndefined();
  });

  it('refuses github mode without an OAuth client, naming both variables', () => {
    expect(() =>
      readLocalSettings({ MATINEE_ACCESS: 'github', MATINEE_GITHUB_CLIENT_ID: 'x' }, '/repo'),
    ).toThrow(/set MATINEE_GITHUB_CLIENT_ID and MATINEE_GITHUB_CLIENT_SECRET/);
  });

  it('refuses a GitHub address that is not an http(s) URL', () => {
    expect(() =>
      readLocalSettings(
        {
          MATINEE_ACCESS: 'github',
          MATINEE_GITHUB_CLIENT_ID: 'x',
          MATINEE_GITHUB_CLIENT_SECRET: 'y',
          MATINEE_GITHUB_OAUTH_URL: 'javascript:alert(1)',
        },
        '/repo',
      ),
    ).toThrow(/MATINEE_GITHUB_OAUTH_URL=javascript:alert\(1\) is not an http\(s\) URL/);
  });

  it('has no sign-in in the other modes', () => {
    expect(
      readLocalSettings(
        { MATINEE_ACCESS: 'link', MATINEE_GITHUB_CLIENT_ID: 'x', MATINEE_GITHUB_CLIENT_SECRET: 'y' },
        '/repo',
      ).github,
    ).toBeUndefined();
  });
});
