import { inject } from 'vitest';
import { localTable } from '../../support/dynamo.ts';
import type { FakeGithub } from '../../support/fake-github.ts';
import { simulateAtEnd } from './iam-check.ts';
import { type MotoLife, motoLife } from './moto-life.ts';

export { HOST } from './moto-life.ts';

/**
 * A stage on the run's moto server with every Lambda handler over it (support/moto-life.ts), its store on a
 * fresh table of the run's DynamoDB Local. Every AWS call it makes is simulated against the stage's IAM
 * policies once the file's tests are done (support/iam-check.ts).
 */
export async function motoDeployment(
  github: FakeGithub,
  options: { domain?: string; maxAwake?: number; print?: boolean } = {},
): Promise<MotoLife> {
  const d = await motoLife(github, {
    ...options,
    endpoint: inject('motoEndpoint'),
    table: await localTable(),
  });
  simulateAtEnd(d.recorder, d.moto, d.table.tableName);
  return d;
}
export type MotoDeployment = MotoLife;
