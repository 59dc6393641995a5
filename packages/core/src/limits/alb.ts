/** Target groups one ALB takes at most (a hard limit). */
export const ALB_TARGET_GROUPS = 100;
/** Awake previews one ALB can hold: each holds a target group, and the wake function's own is one of the 100. */
export const MAX_AWAKE = ALB_TARGET_GROUPS - 1;
/** Why `MAX_AWAKE` is what it is, for the errors that enforce it. */
export const MAX_AWAKE_REASON = `an ALB holds at most ${ALB_TARGET_GROUPS} target groups and the wake function's own is one of them, so at most ${MAX_AWAKE} previews can be awake`;
