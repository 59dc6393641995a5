import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { INSTALL_MOTO, motoAvailable, startMotoServer } from './moto-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** moto's server for this run; empty when moto is not installed (the suite is then skipped). */
    motoEndpoint: string;
    /** Where the IAM policies of stage `test` are kept once synthesized, for every file of the run (iam-check.ts). */
    stagePoliciesFile: string;
  }
}

/**
 * One moto server for the emulator suite (the `emulator` project of test/vitest.config.ts, so runs of other
 * tests never start it). Without moto the suite is skipped, unless MATINEE_REQUIRE_EMULATOR=1 (CI) makes
 * that a failure. MATINEE_MOTO_ENDPOINT names a server to use instead of starting one.
 */
export default async function setup(project: TestProject) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'matinee-emulator-'));
  project.provide('stagePoliciesFile', path.join(scratch, 'stage-policies.json'));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  // A server already running (`python3 -m moto.server -p 5000`), for quick iterations on the suite.
  const given = process.env.MATINEE_MOTO_ENDPOINT;
  if (given) {
    project.provide('motoEndpoint', given);
    return removeScratch;
  }
  if (!motoAvailable()) {
    if (process.env.MATINEE_REQUIRE_EMULATOR === '1') throw new Error(INSTALL_MOTO);
    console.warn(`skipping test/emulator: ${INSTALL_MOTO}`);
    project.provide('motoEndpoint', '');
    return removeScratch;
  }
  const { endpoint, stop } = await startMotoServer();
  project.provide('motoEndpoint', endpoint);
  return async () => {
    await stop();
    removeScratch();
  };
}
