/** Who a share is for: a patient (their digital film, or a link they passed on) or a partner institution. */
export const SHARE_AUDIENCES = ['patient', 'institution'] as const;
export type ShareAudience = (typeof SHARE_AUDIENCES)[number];

/** What a link asks for besides itself: nothing, a PIN chosen when sharing, or the patient's birth date. */
export const SECOND_FACTORS = ['none', 'pin', 'birth-date'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];

/** How one following of a link went. */
export const SHARE_OPENING_OUTCOMES = [
  /** The link's page was shown (a valid link). */
  'visited',
  /** Exchanged for a viewer session. */
  'opened',
  'wrong-second-factor',
  'expired',
  'revoked',
  'not-yet-valid',
] as const;
export type ShareOpeningOutcome = (typeof SHARE_OPENING_OUTCOMES)[number];

/** A second reader's view of the first read's category. */
export const SECOND_READ_OPINIONS = ['agree', 'disagree'] as const;
export type SecondReadOpinion = (typeof SECOND_READ_OPINIONS)[number];

/**
 * What of the study a share covers; a share without a scope covers the whole study. Series and key images
 * are DICOM UIDs of the study; key images may lie in any series (their series need not be listed).
 */
export interface ShareScope {
  seriesInstanceUids?: string[];
  sopInstanceUids?: string[];
}

/** Share expiry: 30 days unless asked, at most a year. */
export const DEFAULT_SHARE_HOURS = 720;
export const MAX_SHARE_HOURS = 8760;

/**
 * What a share's viewer session may see: one study (its row id and StudyInstanceUID), narrowed by `scope`,
 * with or without the images' files.
 */
export interface ShareGrant {
  shareId: string;
  /** The share the film started from (the patient's own link): the root of the links a patient manages. */
  rootShareId: string;
  sessionId: string;
  studyId: string;
  studyInstanceUid: string;
  scope: ShareScope | null;
  allowDownload: boolean;
  audience: ShareAudience;
  /** The patient's own film (not a link passed on): it may pass itself on and manage its links. */
  canPassOn: boolean;
  /** When this viewer session ends. */
  expiresAt: Date;
  /** When the share itself (the link) expires. */
  linkExpiresAt: Date;
}
