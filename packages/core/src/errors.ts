/** Base of every error Matinee raises on purpose. `cause` keeps the original error for the logs. */
export class MatineeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An error whose message is written for the person who caused it (PR author, operator) and may be shown. */
export class UserError extends MatineeError {}

/** A conditional write lost: someone else changed the item since it was read. Re-read and decide again. */
export class ConflictError extends MatineeError {}

/** A dependency asked us to slow down or failed transiently; the same call may succeed later. */
export class TransientError extends MatineeError {}
