import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readInstanceHeader,
  readInstanceHeaderFast,
  readInstanceHeaderWithDcmjs,
} from '../../../src/dicom/read-instance.js';
import { DomainError } from '../../../src/shared/errors.js';
import { syntheticCtInstance } from '../../fixtures/synthetic-instance.js';
import { sampleDir } from '../../fixtures/sample-data.js';

describe('readInstanceHeader', () => {
  it('names an element whose declared length runs past the end, not the attributes after it', () => {
    const bytes = Buffer.from(
      syntheticCtInstance({
        studyInstanceUid: '2.25.1',
        seriesInstanceUid: '2.25.2',
        sopInstanceUid: '2.25.3',
      }),
    );
    // (0008,0020) StudyDate, explicit VR DA: its 16-bit length becomes 65534.
    const at = bytes.indexOf(Buffer.from([0x08, 0x00, 0x20, 0x00, 0x44, 0x41]));
    bytes.writeUInt16LE(0xfffe, at + 6);
    expect(() => readInstanceHeader(bytes)).toThrow(
      /^element \(0008,0020\) declares 65534 bytes but only \d+ remain: the file is truncated or corrupt$/,
    );
  });

  it('reads the attributes nodus keeps from a CT instance', () => {
    const header = readInstanceHeader(
      syntheticCtInstance({
        studyInstanceUid: '2.25.1',
        seriesInstanceUid: '2.25.2',
        sopInstanceUid: '2.25.3',
        z: -12.5,
      }),
    );
    expect(header).toMatchObject({
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      sopInstanceUid: '2.25.3',
      modality: 'CT',
      patientId: 'SYNTH-001',
      patientName: 'Synthetic^Patient',
      studyDate: '2026-01-01',
      studyTime: '10:15:00',
      institutionName: 'Synthetic Hospital',
      convolutionKernel: 'STANDARD',
      sliceThicknessMm: 1.25,
      imagePositionPatient: [-100, -100, -12.5],
    });
  });

  it('rejects bytes that are not DICOM with INVALID_DICOM', () => {
    const attempt = () => readInstanceHeader(new TextEncoder().encode('<xml>not dicom</xml>'));
    expect(attempt).toThrow(DomainError);
    expect(attempt).toThrow(/not a readable DICOM Part 10 file/);
  });

  it.skipIf(!sampleDir)('reads a real LIDC slice (GE LightSpeed, explicit VR little endian)', () => {
    const folder = path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001');
    const file = fs
      .readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .find((name) => name.endsWith('000001.dcm'));
    const header = readInstanceHeader(fs.readFileSync(path.join(folder, file!)));
    expect(header).toMatchObject({
      patientId: 'LIDC-IDRI-0001',
      modality: 'CT',
      manufacturer: 'GE MEDICAL SYSTEMS',
      convolutionKernel: 'STANDARD',
      sliceThicknessMm: 2.5,
      seriesInstanceUid: '1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192',
    });
  });
});

describe('readInstanceHeaderFast (dicom-parser) against readInstanceHeaderWithDcmjs', () => {
  it('reads a synthetic instance exactly as dcmjs does', () => {
    const bytes = syntheticCtInstance({
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      sopInstanceUid: '2.25.3',
    });
    expect(readInstanceHeaderFast(bytes)).toEqual(readInstanceHeaderWithDcmjs(bytes));
  });

  it.skipIf(!sampleDir)('agrees with dcmjs on every DICOM file of the shared data (or steps aside)', () => {
    const files = fs
      .readdirSync(sampleDir!, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.dcm'))
      .map((name) => path.join(sampleDir!, name));
    let fast = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const quick = readInstanceHeaderFast(bytes);
      if (quick === undefined) continue;
      fast += 1;
      expect({ file, header: quick }).toEqual({ file, header: readInstanceHeaderWithDcmjs(bytes) });
    }
    expect(fast).toBeGreaterThan(files.length * 0.9);
  });
});
