/**
 * Where `wf login` keeps the server URL and token: $WF_CONFIG, else config.json in the user's
 * config folder (XDG_CONFIG_HOME or ~/.config, %APPDATA% on Windows)/workflow-factory, readable
 * by its owner only. WF_URL and WF_TOKEN override what it holds.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Connection } from './transport.js';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WF_CONFIG) return env.WF_CONFIG;
  const base = env.XDG_CONFIG_HOME || (process.platform === 'win32' && env.APPDATA) || path.join(homedir(), '.config');
  return path.join(base, 'workflow-factory', 'config.json');
}

export function saveConnection(connection: Connection, env: NodeJS.ProcessEnv = process.env): string {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify({ url: connection.url, token: connection.token }, null, 2)}\n`, { mode: 0o600 });
  // writeFileSync's mode only applies to a new file: an older one may have been wider.
  chmodSync(file, 0o600);
  return file;
}

/** The saved connection with the environment's overrides; null when neither names a URL and token. */
export function loadConnection(env: NodeJS.ProcessEnv = process.env): Connection | null {
  let saved: Partial<Connection> = {};
  try {
    saved = JSON.parse(readFileSync(configPath(env), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${configPath(env)}: ${(error as Error).message}`);
  }
  const url = env.WF_URL || saved.url;
  const token = env.WF_TOKEN || saved.token;
  return url && token ? { url, token } : null;
}
