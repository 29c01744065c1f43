/**
 * Every default of the config, in one table, keyed as the README's config table names the settings: the
 * validator fills them in from here, and a unit test holds the README's "default" column to it. (The state
 * folder's default comes from the environment: see defaultStateDir in validate-config.ts.)
 */
export const CONFIG_DEFAULTS = {
  'defaults.port': 3306,
  'timeouts.connect': 3,
  'timeouts.drain': 300,
  'timeouts.equalize': 600,
  'timeouts.verify': 60,
  'timeouts.hook': 60,
  positioning: 'auto',
  'vip.readers': [],
  'vip.readerMaxLagSeconds': 30,
  'ssh.user': 'root',
  'ssh.port': 22,
  'switchover.maxLagSeconds': 10,
  'switchover.maxTransactionSeconds': 5,
  deadConfirmSeconds: 10,
  antiFlapMinutes: 60,
  journalMaxAgeMinutes: 60,
  'semiSync.waitForAck': true,
  'semiSync.installPlugins': false,
  'coordination.etcd.prefix': '/mmmf',
  'coordination.etcd.lockTtlSeconds': 15,
  'coordination.etcd.requestTimeoutMs': 3000,
  'coordination.etcd.publishOrchestratorKeys': false,
} as const;

/** The timeouts, as the resolved config holds them. */
export const DEFAULT_TIMEOUTS = {
  connect: CONFIG_DEFAULTS['timeouts.connect'],
  drain: CONFIG_DEFAULTS['timeouts.drain'],
  equalize: CONFIG_DEFAULTS['timeouts.equalize'],
  verify: CONFIG_DEFAULTS['timeouts.verify'],
  hook: CONFIG_DEFAULTS['timeouts.hook'],
};
