/**
 * Where to go after signing in: a path on this site, or "/". `next` comes from the URL, so
 * anyone can craft it; what a browser would resolve to another origin is refused — `//host`,
 * `/\host` (browsers read `\` as `/`), schemes, control characters (stripped by browsers, so
 * `/\t/host` is `//host`), dot segments that normalise to `//`, and all of these encoded.
 */
const BASE = 'http://this-site.invalid';

export function safeNext(next: string | null): string {
  if (!next?.startsWith('/')) return '/';
  // Check every layer of encoding a later hop might undo, not just the raw text. Byte-wise
  // decoding never throws (a search for "100%" keeps its redirect) and always shortens the
  // text, so the loop ends.
  for (let layer = next, previous = ''; layer !== previous; previous = layer, layer = decodeBytes(layer)) {
    if (/[\\\u0000-\u001f\u007f]/.test(layer)) return '/';
    const url = new URL(layer, BASE);
    if (url.origin !== BASE || url.pathname.startsWith('//')) return '/';
  }
  const url = new URL(next, BASE);
  return url.pathname + url.search + url.hash;
}

function decodeBytes(text: string): string {
  return text.replace(/%([\da-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
