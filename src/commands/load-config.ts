import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { trustedDir } from '../safety/state-files.js';
import { defaultStateDir, validateConfig } from '../topology/validate-config.js';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.json'];

/** A host the command line names (`--failover-to db2`): checked with the config's other problems. */
export interface NamedHost {
  flag: string;
  name: string;
}

/**
 * Loads and validates the topology file. TypeScript configs are compiled on the fly by jiti, which strips
 * type-only imports, so `import type { MmmfConfig } from 'mmmf'` works even where 'mmmf' cannot be resolved
 * from the config's folder (a config kept in /etc, say).
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
      raw = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
    else {
      // Transpiling costs ~200 ms on a small machine; jiti's file cache (keyed by content) makes every later
      // load of an unchanged config ~5 ms, so a failover after a cron `mmmf check` starts fast. The cache holds
      // code mmmf (usually root) runs: it lives in mmmf's own private folder, never in jiti's default one in
      // the shared temp folder, where another local user could create it first. Untrusted: no cache.
      const { createJiti } = await import('jiti');
      const cache = join(defaultStateDir(), 'config-cache');
      const fsCache = trustedDir(cache) ? cache : false;
      const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache, interopDefault: true });
      raw = await jiti.import(path, { default: true });
    }
  } catch (err) {
    throw new ConfigError(`cannot load config ${path}`, [(err as Error).message.split('\n')[0] ?? String(err)]);
  }
  const { config, problems } = validateConfig(raw, path, named);
  if (!config)
    throw new ConfigError(`config ${path} has ${problems.length} problem${problems.length > 1 ? 's' : ''}`, problems);
  return config;
}
