import { MemoryBudget } from './memory-budget.js';
import { DEFAULT_RECEIVING_LIMITS, type ReceivingLimits } from './receiving-limits.js';

/** The limits of receiving instances and the memory budget every route shares. */
export interface Receiving {
  receiving: ReceivingLimits;
  budget: MemoryBudget;
}

let defaultReceiving: Receiving | undefined;

/** The ingest deps' receiving limits and budget, or process-wide defaults (one budget for all). */
export function receivingOf(deps: { receiving?: Receiving | undefined }): Receiving {
  if (deps.receiving) return deps.receiving;
  defaultReceiving ??= {
    receiving: DEFAULT_RECEIVING_LIMITS,
    budget: new MemoryBudget(DEFAULT_RECEIVING_LIMITS.memoryBytes),
  };
  return defaultReceiving;
}

/** Limits and one shared budget for a process. */
export function createReceiving(limits: ReceivingLimits): Receiving {
  return { receiving: limits, budget: new MemoryBudget(limits.memoryBytes) };
}
