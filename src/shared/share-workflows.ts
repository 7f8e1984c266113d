/** Workflow type, signal and ids of a share's timers (shared by clients and workflow code). */
export const SHARE_WORKFLOWS = {
  lifecycle: 'shareLifecycleWorkflow',
  /** Sent when the share is revoked: its timers stop (the revocation itself is already in force). */
  revokedSignal: 'shareRevoked',
} as const;

/** A share's timers: when its second read is due (institution shares) and when it expires, ISO instants. */
export interface ShareLifecycleInput {
  shareId: string;
  expiresAt: string;
  secondReadDueAt?: string | undefined;
}

export interface ShareLifecycleResult {
  outcome: 'expired' | 'revoked';
  /** Whether the second read's due time passed without one. */
  secondReadOverdue: boolean;
}

/** One lifecycle per share. */
export function shareWorkflowId(shareId: string): string {
  return `share:${shareId}`;
}
