// The order of src/'s folders, shared by the layering test and the check of ARCHITECTURE.md.

/**
 * The folders of src/ (and its top-level files), lowest first: each may import only from itself and from the
 * ones before it. `state` (the cluster's coordination state) may use algorithm's plan types and executor's
 * types and is used by the command layer.
 */
export const FOLDER_ORDER = [
  'domain',
  'errors.ts',
  'dialect',
  'topology',
  'binlog',
  'vip',
  'algorithm',
  'safety',
  'executor',
  'state',
  'output',
  'commands',
  'index.ts',
];
