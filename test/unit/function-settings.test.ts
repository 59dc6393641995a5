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

  it('refuses a domain whose preview hosts would not fit an ALB rule, and more awake previews than an ALB holds', () => {
    const domain = `${'a'.repeat(61)}.${'b'.repeat(41)}.com`;
    const long = { ...links({}), MatineeSettings: { ...STAGE, domain } };
    const full = { ...links({}), MatineeSettings: { ...STAGE, maxAwake: 100 } };

    expect(() => readSettings(long)).toThrow(/MatineeSettings\.domain: .*at most 128 characters/);
    expect(() => readSettings(full)).toThrow(
      /MatineeSettings\.maxAwake: .*wake function's own is one of them/,
    );
    expect(readSettings({ ...links({}), MatineeSettings: { ...STAGE, maxAwake: 99 } }).stage.maxAwake).toBe(
      99,
    );
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

describe("the GitHub App's OAuth client", () => {
  const oauth = { clientId: 'Iv1.0123456789abcdef', clientSecret: 'client-secret' };

  it('is read only for a function that asks for it, on a stage whose access mode is github', () => {
    const github = { access: { mode: 'github' } as const, oauth };
    expect(readSettings(links(github), { oauth: true }).oauth).toEqual(oauth);
    expect(readSettings(links(github)).oauth).toBeUndefined();
    expect(readSettings(links({ access: { mode: 'link' }, oauth }), { oauth: true }).oauth).toBeUndefined();
  });

  it('is required, both halves, when the access mode is github', () => {
    const access = { mode: 'github' } as const;
    expect(() => readSettings(links({ access }), { oauth: true })).toThrow(
      "MATINEE_ACCESS is github, so set the GitHub App's OAuth client: the secrets GithubClientId and GithubClientSecret",
    );
    expect(() =>
      readSettings(links({ access, oauth: { ...oauth, clientSecret: '' } }), { oauth: true }),
    ).toThrow(/GithubClientSecret/);
  });

  it('refuses a stage without an access mode, or with an unknown one', () => {
    const { access: _access, ...stage } = STAGE;
    expect(() => readSettings({ ...links({}), MatineeSettings: stage })).toThrow(/MatineeSettings\.access/);
    expect(() =>
      readSettings({ ...links({}), MatineeSettings: { ...STAGE, access: { mode: 'private' } } }),
    ).toThrow(/MatineeSettings\.access\.mode/);
  });
});
