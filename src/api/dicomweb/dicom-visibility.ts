import type { Context } from 'hono';
import { requireRole, visibleInstitutions } from '../../access/policy.js';
import type { DicomVisibility } from '../../db/repositories/dicomweb-query.js';
import { DomainError } from '../../shared/errors.js';
import { ROLES_SEEING_IDENTITY } from '../../shared/roles.js';
import { principalOf, type AppEnv } from '../app.js';

/** What a DICOMweb request reads: answers (QIDO, metadata), pictures (rendered, thumbnails) or the files. */
export type DicomRead = 'query' | 'metadata' | 'picture' | 'files';

/**
 * What the caller sees of the stored DICOM objects. A share's viewer session (a patient's film, a link passed
 * on to a doctor) sees its one study as far as the share covers, and its files only when the share allows
 * downloads; everyone else sees their institutions' studies (and those shared with them), if their role
 * sees identifying data at all.
 */
export function dicomVisibility(c: Context<AppEnv>, read: DicomRead, what: string): DicomVisibility {
  const grant = c.get('grant');
  if (grant) {
    if (read === 'files' && !grant.allowDownload) {
      throw new DomainError('FORBIDDEN', `this link does not allow downloads (${what})`, {
        context: { reason: 'share-scope', shareId: grant.shareId },
      });
    }
    return {
      institutionIds: undefined,
      grant: {
        studyId: grant.studyId,
        seriesInstanceUids: grant.scope?.seriesInstanceUids,
        sopInstanceUids: grant.scope?.sopInstanceUids,
      },
    };
  }
  const principal = principalOf(c);
  requireRole(principal, ROLES_SEEING_IDENTITY, `${what} (identifying data)`);
  return { institutionIds: visibleInstitutions(principal), sharedStudyIds: principal.sharedStudyIds };
}
