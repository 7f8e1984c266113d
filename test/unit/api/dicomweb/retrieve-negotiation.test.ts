import { describe, expect, it } from 'vitest';
import { parseAccept } from '../../../../src/api/dicomweb/accept.js';
import {
  negotiateFrames,
  negotiateInstances,
  negotiateRendered,
} from '../../../../src/api/dicomweb/retrieve-negotiation.js';

const JLS = '1.2.840.10008.1.2.4.80';
const EXPLICIT = '1.2.840.10008.1.2.1';

describe('Accept negotiation for WADO-RS', () => {
  it('splits ranges at commas outside quotes and orders them by q', () => {
    const ranges = parseAccept('multipart/related; type="application/dicom"; q=0.5, application/dicom+json');
    expect(ranges.map((r) => r.essence)).toEqual(['application/dicom+json', 'multipart/related']);
    expect(ranges[1]!.parameters.type).toBe('application/dicom');
  });

  it('instances: * as stored, Explicit VR LE by default, a named stored syntax, else 406', () => {
    const stored = new Set([JLS]);
    expect(negotiateInstances('multipart/related; type="application/dicom"; transfer-syntax=*', stored)).toBe(
      '*',
    );
    expect(negotiateInstances('multipart/related; type=application/dicom', stored)).toBe(EXPLICIT);
    expect(negotiateInstances(undefined, stored)).toBe(EXPLICIT);
    expect(
      negotiateInstances(`multipart/related; type="application/dicom"; transfer-syntax=${JLS}`, stored),
    ).toBe(JLS);
    expect(() =>
      negotiateInstances(
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50',
        stored,
      ),
    ).toThrow(/Accept/);
    expect(() => negotiateInstances('application/json', stored)).toThrow(/Accept/);
  });

  it("frames: OHIF's octet-stream with transfer-syntax=* (type quoted or not) gets the stored bitstream", () => {
    for (const accept of [
      'multipart/related; type=application/octet-stream; transfer-syntax=*',
      'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    ]) {
      expect(negotiateFrames(accept, JLS, false)).toEqual({
        kind: 'stored',
        mediaType: 'application/octet-stream',
        multipart: true,
      });
      expect(negotiateFrames(accept, EXPLICIT, true)).toEqual({ kind: 'uncompressed', multipart: true });
    }
    expect(negotiateFrames('multipart/related; type="application/octet-stream"', JLS, false)).toEqual({
      kind: 'uncompressed',
      multipart: true,
    });
    expect(negotiateFrames('multipart/related; type="image/jls"', JLS, false)).toMatchObject({
      mediaType: 'image/jls',
    });
    expect(negotiateFrames('application/octet-stream', EXPLICIT, true)).toEqual({
      kind: 'uncompressed',
      multipart: false,
    });
    expect(() => negotiateFrames('multipart/related; type="image/jp2"', JLS, false)).toThrow(/image\/jls/);
  });

  it('rendered: PNG for image/png and wildcards, 406 for anything else', () => {
    expect(negotiateRendered('image/*')).toBe('image/png');
    expect(negotiateRendered(undefined)).toBe('image/png');
    expect(negotiateRendered('image/jpeg, image/png;q=0.5')).toBe('image/jpeg');
    expect(negotiateRendered('image/png, image/jpeg')).toBe('image/png');
    expect(() => negotiateRendered('image/gif')).toThrow(/Accept/);
  });
});
