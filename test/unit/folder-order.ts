// The order of src/'s folders, shared by the layering test and the check of ARCHITECTURE.md.

/**
 * The folders of src/ (and its top-level files), lowest first: each may import only from itself and from the
 * ones before it. `state` (the cluster's store: files or etcd) sits low: it stores what it is given, and the
 * command layer decides what that is.
 */
export const FOLDER_ORDER = [
  'domain',
  'errors.ts',
  'process',
  'dialect',
  'topology',
  'state',
  'startup',
  'binlog',
  'vip',
  'algorithm',
  'safety',
  'executor',
  'output',
  'commands',
  'index.ts',
];
