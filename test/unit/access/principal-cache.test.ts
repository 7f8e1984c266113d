import { describe, expect, it } from 'vitest';
import { cachedPrincipals } from '../../../src/access/principal-cache.js';
import type { Principal } from '../../../src/access/principal.js';

const alice: Principal = {
  userId: 'u1',
  email: 'alice@example.org',
  role: 'radiologist',
  institutionIds: ['i1'],
  tokenId: 't1',
};

describe('cachedPrincipals', () => {
  it('looks a known token up once per interval and unknown tokens every time', async () => {
    let clock = 0;
    const lookups: string[] = [];
    const resolve = cachedPrincipals(
      (token) => {
        lookups.push(token);
        return Promise.resolve(token === 'good' ? alice : undefined);
      },
      { ttlMs: 1000, now: () => clock },
    );
    expect(await resolve('good')).toBe(alice);
    clock = 999;
    expect(await resolve('good')).toBe(alice);
    expect(await resolve('bad')).toBeUndefined();
    expect(await resolve('bad')).toBeUndefined();
    clock = 1000;
    expect(await resolve('good')).toBe(alice);
    expect(lookups).toEqual(['good', 'bad', 'bad', 'good']);
  });

  it('forgets the oldest entry beyond its size', async () => {
    const lookups: string[] = [];
    const resolve = cachedPrincipals(
      (token) => {
        lookups.push(token);
        return Promise.resolve({ ...alice, tokenId: token });
      },
      { maxEntries: 2 },
    );
    for (const token of ['a', 'b', 'c', 'b', 'a']) await resolve(token);
    expect(lookups).toEqual(['a', 'b', 'c', 'a']);
  });
});
