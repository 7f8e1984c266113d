/**
 * Failure Reason (0008,1197) values of the Store Instances Response (STOW-RS), and when nodus uses each.
 *
 * Sources: DICOM PS3.18 (2024c) §I.2.2 Table I.2-2 "Store Instances Response Failure Reason Values", which
 * defines A7xx, A9xx, Cxxx, C122, 0110 and 0122 and allows additional codes ("Implementation specific
 * warning and error codes shall be defined in the conformance statement"); DICOM PS3.7 Annex C for the
 * general DIMSE status 0124H "Refused: Not Authorized". PS3.18 defines no code for a StudyInstanceUID that
 * differs from the study of the request URL (§10.5.3.1 names it only as a cause of 409 Conflict); nodus
 * uses A901H (43265), the value the Microsoft DICOM service documents in its conformance statement for
 * exactly this case, inside the A9xx "Data Set does not match" range.
 *
 * Not used: C122H "Referenced Transfer Syntax not supported" (nodus stores every transfer syntax as
 * received); 0111H "Duplicate SOP Instance", which is no status of the Storage service (DCMTK reports it
 * as unknown, Orthanc aborts its job). No Warning Reason (0008,1196) applies: nodus never coerces or
 * discards elements, and a repeat of the same content, in any encoding, is a success.
 */
export const FAILURE_REASON = {
  /** 0110H, PS3.18 Table I.2-2: an unexpected error while storing (database, blob store). */
  processingFailure: 0x0110,
  /** 0124H, PS3.7 Annex C: the InstitutionName is not an institution the caller may store into. */
  notAuthorized: 0x0124,
  /** 0122H, PS3.18 Table I.2-2: not a modality nodus accepts (it screens chest CT). */
  sopClassNotSupported: 0x0122,
  /** A700H, PS3.18 Table I.2-2 (A7xx): out of resources (no space left for the blob). */
  outOfResources: 0xa700,
  /** A900H, PS3.18 Table I.2-2 (A9xx): a required attribute (a UID, the transfer syntax) is missing or invalid. */
  dataSetDoesNotMatchSopClass: 0xa900,
  /** A901H, implementation specific (see above): StudyInstanceUID differs from the study in the URL. */
  studyInstanceUidMismatch: 0xa901,
  /** C000H, PS3.18 Table I.2-2 (Cxxx): not a readable DICOM Part 10 file, or not an application/dicom part. */
  cannotUnderstand: 0xc000,
  /**
   * C111H, implementation specific in the Cxxx range (the same value as nodus's C-STORE status): the
   * SOPInstanceUID is already stored, in the caller's institutions, with other content; the stored instance
   * stays, the new one is kept aside (bounded). The same content in another encoding is a success.
   */
  alreadyStoredWithOtherContent: 0xc111,
} as const;

export type FailureReason = (typeof FAILURE_REASON)[keyof typeof FAILURE_REASON];
