import { describe, expect, it } from 'vitest';
import { githubCredentials, readSettings } from '../../functions/lib/settings.ts';
import { links, STAGE } from '../support/platform.ts';

describe('what a function reads from its SST links', () => {
  it('reads the table, the bus, the stage and only the secrets it asks for', () => {
    const settings = readSettings(links({}), { webhookSecret: true });

    expect(settings).toEqual({
      stage: STAGE,
      tableName: 'replaced-by-test',
      busName: 'matinee-test',
      github: undefined,
      webhookSecret: 'webhook-secret',
      dashboardPassword: undefined,
    });
  });

  it('names every missing or malformed link in one error', () => {
    const { MatineeBus: _bus, ...linked } = links({});
    const broken = { ...linked, MatineeSettings: { ...STAGE, network: { ...STAGE.network, subnets: [] } } };

    expect(() => readSettings(broken)).toThrow(/MatineeBus: .*MatineeSettings\.network\.subnets/);
  });

  it('treats a link that SST says is not linked (its Resource throws) as missing', () => {
    const linked = new Proxy(links({}), {
      get(target, name) {
        if (name === 'GithubWebhookSecret') throw new Error('"GithubWebhookSecret" is not linked');
        return Reflect.get(target, name);
      },
    });

    expect(() => readSettings(linked, { webhookSecret: true })).toThrow(/GithubWebhookSecret/);
  });
});

describe('GitHub credentials', () => {
  it('prefers the App, restoring line breaks of a key pasted on one line', () => {
    expect(githubCredentials('12', '-----BEGIN-----\\nabc\\n-----END-----', 'token')).toEqual({
      kind: 'app',
      appId: '12',
      privateKey: '-----BEGIN-----\nabc\n-----END-----',
    });
  });

  it('falls back to a token, and says what to set when there is neither or half an App', () => {
    expect(githubCredentials('', '', 'github_pat_x')).toEqual({ kind: 'token', token: 'github_pat_x' });
    expect(() => githubCredentials('', '', '')).toThrow(/GithubAppId.*GithubPrivateKey.*GithubToken/);
    expect(() => githubCredentials('12', '', '')).toThrow(/half configured/);
  });
});
