import type { InstitutionBinding } from '../db/repositories/instances.js';
import type { Principal } from './principal.js';

/**
 * Where a user's STOW-RS instances may go: administrators anywhere (the InstitutionName decides); everyone
 * else only into their own institutions.
 */
export function bindingOf(principal: Principal): InstitutionBinding {
  return principal.role === 'admin'
    ? { kind: 'any' }
    : { kind: 'one-of', institutionIds: principal.institutionIds };
}
