import { describe, expect, it } from 'vitest';
import { isConfiguredPeer, parseDicomPeer } from '../../../src/shared/dicom-peer.js';

describe('parseDicomPeer', () => {
  it.each([
    ['PACS@10.0.0.5:104', { aeTitle: 'PACS', host: '10.0.0.5', port: 104 }],
    [' ORTHANC@pacs.example.org:4242 ', { aeTitle: 'ORTHANC', host: 'pacs.example.org', port: 4242 }],
    ['PACS@host', undefined],
    ['PACS@host:0', undefined],
    ['PACS@host:70000', undefined],
    ['A_VERY_LONG_AE_TITLE@host:104', undefined],
    ['@host:104', undefined],
  ])('parses %j', (entry, peer) => {
    expect(parseDicomPeer(entry)).toEqual(peer);
  });

  it('accepts only a configured AE title, host and port together', () => {
    const peers = [{ aeTitle: 'PACS', host: '10.0.0.5', port: 104 }];
    expect(isConfiguredPeer(peers, { aeTitle: 'PACS', host: '10.0.0.5', port: 104 })).toBe(true);
    expect(isConfiguredPeer(peers, { aeTitle: 'PACS', host: '10.0.0.5', port: 105 })).toBe(false);
    expect(isConfiguredPeer(peers, { aeTitle: 'OTHER', host: '10.0.0.5', port: 104 })).toBe(false);
    expect(isConfiguredPeer([], { aeTitle: 'PACS', host: '10.0.0.5', port: 104 })).toBe(false);
  });
});
