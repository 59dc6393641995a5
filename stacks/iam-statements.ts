/** IAM policy statements as plain data, and the stage tag every statement that creates or deletes checks. */

export interface Condition {
  test: string;
  variable: string;
  values: string[];
}

export interface Statement {
  actions: string[];
  resources: string[];
  conditions?: Condition[];
}

export const TAG_STAGE = 'matinee:stage';

/** The resource (ResourceTag) or the request creating it (RequestTag) carries this stage's tag. */
export const stageTag = (kind: 'RequestTag' | 'ResourceTag', stage: string): Condition => ({
  test: 'StringEquals',
  variable: `aws:${kind}/${TAG_STAGE}`,
  values: [stage],
});
