/**
 * What a failed send means for the delivery worker. Each channel maps its own errors
 * to one of these (platform knowledge, not business rules).
 */
export type SendFailure =
  /** Try again later: after `afterMs` when the platform said so (429 retry_after), else with backoff. */
  | { kind: 'retry'; afterMs?: number; reason: string; /** the whole channel must pause (a global 429) */ pauseChannel?: boolean }
  /** Never going to work for this message. `unreachable`: the account blocked us or is gone. */
  | { kind: 'permanent'; reason: string; unreachable: boolean };
