/** The label that approves a fork's pull request for deploying, unless `.matinee.yml` names another. */
export const DEFAULT_FORK_LABEL = 'matinee:deploy';
