import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The demo's patient film: the demo radiologist shares the study with its patient (a 30-day link, downloads
 * allowed) and the link, its QR code (a PNG file) and how to open it are printed.
 */
export async function runSharingDemo(
  apiUrl: string,
  radiologistToken: string,
  studyId: string,
  dataDir: string,
): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const response = await fetch(`${apiUrl}/api/studies/${studyId}/shares`, {
    method: 'POST',
    headers: { authorization: `Bearer ${radiologistToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ audience: 'patient', allowDownload: true }),
  });
  if (response.status !== 201) {
    out(`Patient film: not created (${response.status} ${await response.text()})`);
    return;
  }
  const share = (await response.json()) as { id: string; url: string; qrCode: string; expiresAt: string };
  const qrFile = path.join(dataDir, 'patient-film-qr.png');
  await fs.writeFile(qrFile, Buffer.from(share.qrCode.split(',')[1]!, 'base64'));
  out('Patient film (the digital film a patient opens on a phone, no account):');
  out(`  ${share.url}`);
  out(`  QR code of the link: ${qrFile}  (valid until ${share.expiresAt}; downloads allowed)`);
  out(
    '  The report appears on the film once a radiologist signs the study off in the workspace; ' +
      'every opening is listed under GET /api/studies/<id>/shares, and DELETE /api/shares/<id> revokes it.',
  );
}
