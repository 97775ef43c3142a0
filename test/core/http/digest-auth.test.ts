import { describe, expect, it } from 'vitest';
import { DigestSession, parseDigestChallenges } from '../../../src/core/http/digest-auth.ts';

/** RFC 7616 section 3.9.1's worked example. */
const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};
const CHALLENGE = `Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC.nonce}", opaque="${RFC.opaque}", Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=MD5, nonce="${RFC.nonce}", opaque="${RFC.opaque}"`;

function responseOf(header: string): string {
  return /response="([0-9a-f]+)"/.exec(header)?.[1] ?? '';
}

describe('Digest client (RFC 7616)', () => {
  it('reads several challenges from one joined header, skipping Basic', () => {
    const chs = parseDigestChallenges(`Basic realm="x", ${CHALLENGE}`);
    expect(chs.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(chs[0]).toMatchObject({ realm: RFC.realm, nonce: RFC.nonce, opaque: RFC.opaque, stale: false });
    expect(chs[0]!.qop).toEqual(['auth', 'auth-int']);
    expect(parseDigestChallenges('Digest realm="r", nonce="n", algorithm=MD5-sess, qop="auth"')).toEqual([]);
    expect(parseDigestChallenges('Basic realm="only"')).toEqual([]);
    expect(parseDigestChallenges('Digest realm="r", nonce="n", qop="auth", stale=TRUE')[0]!.stale).toBe(true);
  });

  it('computes the RFC example responses for SHA-256 (preferred) and MD5', async () => {
    const sha = new DigestSession(RFC.username, RFC.password, () => RFC.cnonce);
    expect(sha.adopt(CHALLENGE, false)).toBe(true);
    const h = await sha.authorization('GET', 'http://www.example.org/dir/index.html');
    expect(responseOf(h)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(h).toContain('nc=00000001');
    expect(h).toContain('uri="/dir/index.html"');
    expect(h).toContain(`opaque="${RFC.opaque}"`);
    // The next request reuses the nonce with the next count.
    expect(await sha.authorization('GET', 'http://www.example.org/dir/index.html')).toContain('nc=00000002');

    const md5 = new DigestSession(RFC.username, RFC.password, () => RFC.cnonce);
    expect(md5.adopt(CHALLENGE.slice(CHALLENGE.indexOf(', Digest') + 2), false)).toBe(true);
    const m = await md5.authorization('GET', 'http://www.example.org/dir/index.html');
    expect(responseOf(m)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('does not answer again after a refusal unless the nonce was stale', () => {
    const s = new DigestSession('u', 'p');
    expect(s.adopt(CHALLENGE, true)).toBe(false);
    expect(s.adopt(`${CHALLENGE.replace(/opaque="[^"]*"/g, 'stale=true')}`, true)).toBe(true);
    expect(s.adopt('Digest realm="r", nonce="n"', false)).toBe(false); // no qop=auth
  });
});
