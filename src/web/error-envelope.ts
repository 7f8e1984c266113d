/** The message of nodus's error envelope (`{ error: { message } }`) in an answer, when it has one. */
export async function errorEnvelopeMessage(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? body.error.message : undefined;
  } catch {
    return undefined;
  }
}
