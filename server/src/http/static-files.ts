/**
 * Static files through sirv: ETag and 304, HEAD, Range, and a precompressed `.br`/`.gz`
 * sibling chosen by Accept-Encoding. sirv lists the folder once, so nothing outside it (or
 * added later) is ever served; `precompressedCopy` makes a folder with those siblings.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import sirv from 'sirv';

/** Answers the request when `relativeUrl` names a file of the folder; false when none does. */
export type StaticFiles = (req: IncomingMessage, res: ServerResponse, relativeUrl: string) => boolean;

export function staticFiles(root: string, cache: { maxAgeSeconds: number; immutable?: boolean }): StaticFiles {
  const serve = sirv(root, { etag: true, brotli: true, gzip: true, extensions: [], maxAge: cache.maxAgeSeconds, immutable: cache.immutable });
  return (req, res, relativeUrl) => {
    // sirv reads the path from req.url, synchronously; the route's prefix is not part of the folder.
    const url = req.url;
    req.url = `/${relativeUrl}`;
    let found = true;
    // sirv pipes a read stream with no 'error' listener: a file removed or unreadable after sirv
    // listed the folder would throw out of the process. The stream is handed to us on 'pipe'.
    res.once('pipe', (source) => source.once('error', () => res.destroy()));
    try {
      serve(req, res, () => {
        found = false;
      });
    } finally {
      req.url = url;
    }
    return found;
  };
}

/** Already compressed, or too small to gain from it. */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.txt', '.map', '.ico', '.ttf', '.md']);
const MIN_BYTES = 1024;
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/**
 * Copies `source` to `target` with a `.br` and a `.gz` beside each compressible file, unless
 * `target` is already there. Built in a staging folder and renamed into place, so a crash or a
 * second replica doing the same never leaves a half-made copy. Brotli quality 9: within 10 % of
 * the best (11) at a twentieth of the time, so a first visit waits a second, not ten.
 */
export async function precompressedCopy(source: string, target: string): Promise<string> {
  if (existsSync(target)) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const staging = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await cp(source, staging, { recursive: true, preserveTimestamps: true });
    for (const entry of await readdir(staging, { recursive: true, withFileTypes: true })) {
      const file = path.join(entry.parentPath, entry.name);
      if (!entry.isFile() || !COMPRESSIBLE.has(path.extname(file))) continue;
      const data = await readFile(file);
      if (data.length < MIN_BYTES) continue;
      const [br, gz] = await Promise.all([
        brotli(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
        gzipped(data, { level: 9 }),
      ]);
      for (const [suffix, packed] of [['.br', br], ['.gz', gz]] as const) {
        if (packed.length < data.length) await writeFile(file + suffix, packed);
      }
    }
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      // Another process finished first: its copy is as good as ours.
      if (!existsSync(target)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}
