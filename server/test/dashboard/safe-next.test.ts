/** The post-login redirect (`/login?next=…`) may only lead to a path on this site. */
import { describe, expect, it } from 'vitest';
import { safeNext } from '../../../client/src/lib/safe-next.js';

describe('safeNext', () => {
  it.each([
    '/', '/workflows', '/workflows?status=RUNNING&search=nightly', '/workflows/8f0c#tasks', '/metrics?range=15m', '/workflows?search=100%25', '/workflows?search=100%',
  ])('should keep the same-site path %s', (next) => {
    expect(safeNext(next)).toBe(next);
  });

  it.each([
    null, '', 'workflows', 'https://evil.example/', 'javascript:alert(1)', 'data:text/html,x', ' /workflows',
    '//evil.example', '///evil.example', '/\\evil.example', '/\\/evil.example', '\\\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example',
    '/.//evil.example', '/..//evil.example', '/a/..//evil.example', '/%2e//evil.example',
    '/%2Fevil.example', '/%2f%2fevil.example', '/%5Cevil.example', '/%5cevil.example', '/%09/evil.example', '/%252F%252Fevil.example', '/%25252f/evil.example',
    '/%2e%2e%2f%2fevil.example',
  ])('should refuse %j', (next) => {
    expect(safeNext(next)).toBe('/');
  });

  it('should normalise dot segments that stay on the site', () => {
    expect(safeNext('/workflows/../alerts')).toBe('/alerts');
  });
});
