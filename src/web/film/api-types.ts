// The shapes of what the film's API (/api/film*) answers, as the page reads them.
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';

/** The HTML shell's configuration (<script type="application/json" id="film-config">). */
export interface FilmConfig {
  state: 'open' | 'expired' | 'revoked' | 'unknown';
  secondFactor: 'none' | 'pin' | 'birth-date';
}

export interface FilmSeries {
  seriesInstanceUid: string;
  description: string | null;
  modality: string | null;
  /** In slice order. */
  sopInstanceUids: string[];
}

export interface ImageRef {
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

export interface FilmNodule {
  number: number;
  type: 'solid' | 'part-solid' | 'ground-glass';
  longAxisMm: number;
  shortAxisMm: number;
  meanDiameterMm: number;
  keyImage: ImageRef | null;
}

export interface FilmReport {
  signedOffAt: string;
  category: LungRadsCategory;
  followUpMonths: number | null;
  signedOffBy: string | null;
  nodules: FilmNodule[];
  secondReads: { institution: string; opinion: 'agree' | 'disagree'; category: string; at: string }[];
}

/** GET /api/film. */
export interface Film {
  film: {
    shareId: string;
    /** When this viewing session ends. */
    expiresAt: string;
    /** When the link itself expires. */
    linkExpiresAt: string;
    allowDownload: boolean;
    /** The patient's own film (it may be passed on); false for a link passed on to a doctor. */
    canPassOn: boolean;
  };
  patient: { name: string | null; birthDate: string | null; sex: string | null };
  study: { studyInstanceUid: string; date: string | null; description: string | null; institution: string };
  report: FilmReport | null;
  series: FilmSeries[];
}

export type LinkStatus = 'active' | 'expired' | 'revoked' | 'not-yet-valid';
export type OpeningOutcome =
  'visited' | 'opened' | 'wrong-second-factor' | 'expired' | 'revoked' | 'not-yet-valid';

export interface FilmLink {
  id: string;
  parentShareId: string | null;
  audience: string;
  allowDownload: boolean;
  expiresAt: string;
  revokedAt: string | null;
  status: LinkStatus;
  createdAt: string;
  useCount: number;
  lastUsedAt: string | null;
  secondFactor: string;
  scope: { seriesInstanceUids?: string[]; sopInstanceUids?: string[] } | null;
  openings: {
    occurredAt: string;
    outcome: OpeningOutcome;
    address: string | null;
    userAgent: string | null;
  }[];
}

/** POST /api/film/links. */
export interface CreatedLink {
  id: string;
  url: string;
  /** data:image/png;base64,… */
  qrCode: string;
  expiresAt: string;
}
