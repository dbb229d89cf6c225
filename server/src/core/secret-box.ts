/**
 * Secrets at rest: AES-256-GCM with a key from SECRETS_KEY, else one generated once and kept
 * in `<DATA_DIR>/secrets.key` (mode 0600). Sealed text is `v1:<iv>:<tag>:<ciphertext>` in
 * base64url; opening with another key fails loudly (GCM's tag), never yields garbage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface SecretBox {
  seal(plain: string): string;
  /** throws when the text was sealed with another key or altered */
  open(sealed: string): string;
}

export const SECRETS_KEY_FILE = 'secrets.key';

export function secretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a secrets key is 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join(':');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split(':');
      if (version !== 'v1' || !body) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('cannot decrypt a stored secret: SECRETS_KEY is not the key it was stored with');
      }
    },
  };
}

/** The key SECRETS_KEY gives, else the one in `dataDir` (made on first use, readable by this user only). */
export async function loadSecretKey(configured: Buffer | undefined, dataDir: string): Promise<{ key: Buffer; file: string | null }> {
  if (configured) return { key: configured, file: null };
  const file = path.join(dataDir, SECRETS_KEY_FILE);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (existing !== null) {
    const key = Buffer.from(existing.trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return { key, file };
  }
  const key = randomBytes(32);
  await mkdir(dataDir, { recursive: true });
  // 'wx': two processes starting at once cannot both write one; the loser reads the winner's.
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadSecretKey(undefined, dataDir);
    throw error;
  }
  await chmod(file, 0o600);
  return { key, file };
}
