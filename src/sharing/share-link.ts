import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';

/** A link's secret: 256 random bits, base64url (43 characters); only its SHA-256 is stored. */
export function newShareSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The path a share's link opens: the capability alone, nothing about the patient or the study. */
export const SHARE_LINK_PREFIX = '/s/';

/** The link of a share: `<origin>/s/<secret>`. */
export function shareUrl(origin: string, secret: string): string {
  return `${origin.replace(/\/+$/, '')}${SHARE_LINK_PREFIX}${secret}`;
}

/**
 * The link as a QR code, a PNG data URL: error correction M (15 % of the symbol may be covered or smudged,
 * a phone screen or a printed slip), 8 px modules and the standard 4-module quiet zone, so a phone camera
 * reads it from arm's length.
 */
export function qrCodeDataUrl(url: string): Promise<string> {
  return QRCode.toDataURL(url, { errorCorrectionLevel: 'M', margin: 4, scale: 8, type: 'image/png' });
}
