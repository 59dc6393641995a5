import { parseConfig, SEED_CONTAINER, taskSpec } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts, SHA_A } from '../support/environments.ts';

const env = { host: 'fix-login-pr42.preview.example.com', number: 42, pr: facts() };

function spec(yaml: string) {
  const parsed = parseConfig(yaml);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return taskSpec(env, SHA_A, parsed.value, parsed.digest);
}

describe('the task of an environment', () => {
  it('runs the seed beside the app, after the app starts, with its image and variables', () => {
    const { containers } = spec('app: { image: "web:{sha}", port: 3000, env: { A: b } }\nseed: npm run seed');
    const app = containers.find((c) => c.name === 'app');

    expect(containers.find((c) => c.name === SEED_CONTAINER)).toEqual({
      name: SEED_CONTAINER,
      image: `web:${SHA_A}`,
      command: ['sh', '-c', 'npm run seed'],
      env: app?.env,
      essential: false,
      dependsOn: [{ container: 'app', condition: 'START' }],
    });
  });

  it('has no seed container when the config names no seed', () => {
    expect(spec('app: { image: web, port: 3000 }').containers.map((c) => c.name)).toEqual(['app']);
  });
});
