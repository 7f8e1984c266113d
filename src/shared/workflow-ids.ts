/** Business workflow ids: starting the same series twice collides with the running workflow instead of duplicating work. */
export function seriesWorkflowId(seriesInstanceUid: string): string {
  return `series:${seriesInstanceUid}`;
}
