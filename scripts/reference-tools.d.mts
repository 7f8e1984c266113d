/** A real peer the tests run: the file that must exist (a command on PATH or an absolute path) and its package. */
export interface ReferenceTool {
  need: string;
  package: string;
  why: string;
}
export const REFERENCE_TOOLS: readonly ReferenceTool[];
export function isPresent(need: string, env?: NodeJS.ProcessEnv): boolean;
export function missingPackages(env?: NodeJS.ProcessEnv): string[];
