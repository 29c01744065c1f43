import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { importFile } from '../startup/import-file.js';
import { importTypeScript } from './config-cache.js';
import { defaultStateDir, validateConfig } from '../topology/validate-config.js';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json'];

/** A host the command line names (`--failover-to db2`): checked with the config's other problems. */
export interface NamedHost {
  flag: string;
  name: string;
}

/**
 * Loads and validates the topology file. TypeScript configs are compiled by jiti (once per content: see
 * config-cache.ts), which strips type-only imports, so `import type { MmmfConfig } from 'mmmf'` works even where
 * 'mmmf' cannot be resolved from the config's folder (a config kept in /etc, say).
 */
export async function loadConfig(file: string, named: NamedHost[] = []): Promise<ResolvedConfig> {
  const path = resolve(file);
  const ext = extname(path);
  if (!existsSync(path))
    throw new ConfigError(`config file not found: ${path}`, [
      `pass an existing file with --cfg (see mmmf.config.ts.example)`,
    ]);
  if (!EXTENSIONS.includes(ext))
    throw new ConfigError(`config file ${path} has an unsupported extension '${ext}'`, [
      `use one of ${EXTENSIONS.join(', ')}`,
    ]);
  let raw: unknown;
  try {
    if (ext === '.json') raw = JSON.parse(readFileSync(path, 'utf8'));
    else if (ext === '.js' || ext === '.mjs')
      raw = ((await importFile(pathToFileURL(path).href)) as { default?: unknown }).default;
    else raw = await importTypeScript(path, { cacheDir: join(defaultStateDir(), 'config-cache') });
  } catch (err) {
    throw new ConfigError(`cannot load config ${path}`, [(err as Error).message.split('\n')[0] ?? String(err)]);
  }
  const { config, problems } = validateConfig(raw, path, named);
  if (!config)
    throw new ConfigError(`config ${path} has ${problems.length} problem${problems.length > 1 ? 's' : ''}`, problems);
  return config;
}
