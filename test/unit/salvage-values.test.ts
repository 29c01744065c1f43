// The pure values around a salvage: what is left to replay after a part was applied, how the report names what
// was salvaged, the GTID position set afterwards, where the binlog index is, the apply client's option file,
// and what mmmf remembers of a host.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateSalvage, replayBytes } from '../../src/binlog/binlog-file/index.js';
import { slavePosAfter } from '../../src/binlog/binlog-file/gtid-coverage.js';
import { findIndexArgv, knownIndex, pickIndex } from '../../src/binlog/binlog-file/index-location.js';
import { binlogAccessArgv } from '../../src/binlog/binlog-file/remote-read-commands.js';
import { gtidRanges, remainingSlices, reportOf } from '../../src/binlog/binlog-file/salvage-report.js';
import { parseVersion } from '../../src/dialect/dialect.js';
import { clientOptionFile, replayPrivilege, replayTools } from '../../src/dialect/salvage-dialect.js';
import { recallHost, rememberHosts } from '../../src/state/host-memory.js';
import { salvageFindings } from '../../src/algorithm/salvage-preflight.js';
import type { HostState } from '../../src/domain/server-state.js';
import { renderSalvage } from '../../src/output/render-salvage.js';
import { Chalk } from 'chalk';
import { unitConfig } from './fixture-config.js';
import { memorySource, scenarioFiles } from './binlog-fixtures.js';

const MB = 1024 * 1024;
const hosts = { oldMaster: 'db1', appliedTo: 'db2' };

describe('what is left to replay once part of a salvage was applied', () => {
  const files = scenarioFiles('row');
  const all = async () => locateSalvage(memorySource(files), { from: { gtid: '0-1-3' }, maxBytes: 16 * MB });

  it('cuts the slice the applied part ends in right after it, keeps its header, and keeps later slices whole', async () => {
    const loc = await all();
    expect(loc.slices.length).toBe(2); // the scenario spans a rotation
    const first = loc.slices[0]!;
    const inFirst = loc.transactions.filter((t) => t.file === first.file).length;
    expect(remainingSlices(loc, 0)).toEqual(loc.slices);
    const cut = remainingSlices(loc, 1);
    expect(cut[0]!.from).toBe(loc.transactions[1]!.start);
    expect(cut[0]!.header).toBe(first.header);
    expect(Buffer.from(cut[0]!.body)).toEqual(Buffer.from(first.body.subarray(cut[0]!.from - first.from)));
    expect(cut[1]).toBe(loc.slices[1]);
    expect(remainingSlices(loc, inFirst)).toEqual([loc.slices[1]]);
    expect(remainingSlices(loc, loc.transactions.length)).toEqual([]);
  });

  it('each remaining stream decodes to exactly the transactions not applied yet', async () => {
    const loc = await all();
    const printed = remainingSlices(loc, 2).flatMap((slice) => {
      const out = execFileSync('mariadb-binlog', ['--no-defaults', '-'], {
        input: replayBytes(slice),
        encoding: 'latin1',
      });
      return [...out.matchAll(/\tGTID (\d+-\d+-\d+)/g)].map((m) => m[1]);
    });
    expect(printed).toEqual(loc.transactions.slice(2).map((t) => t.gtid));
  });

  it('reports GTID ranges per origin, file:position ranges per file, and the torn tail', async () => {
    const loc = await all();
    const r = reportOf({ ...loc, tornTail: { file: './mysql-bin.000002', offset: 9, bytes: 311 } }, hosts);
    expect(r.outcome).toBe('applied');
    expect(r.transactions).toBe(loc.transactions.length);
    expect(r.positions).toEqual([
      `mysql-bin.000001:${loc.slices[0]!.from}..${loc.slices[0]!.to}`,
      `mysql-bin.000002:${loc.slices[1]!.from}..${loc.slices[1]!.to}`,
    ]);
    expect(r.tornTailBytes).toBe(311);
    const t = (gtid: string | undefined) => ({ file: 'f', start: 0, end: 0, gtid, serverId: 1 });
    expect(gtidRanges(['0-1-4', '0-1-5', '0-1-6', '1-1-1', '0-1-8'].map(t))).toEqual(['0-1-4..6', '1-1-1', '0-1-8']);
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    expect(gtidRanges([`${uuid}:7`, `${uuid}:8`, undefined].map(t))).toEqual([`${uuid}:7-8`]);
  });

  it('moves gtid_slave_pos past the salvaged GTIDs, per domain, never back', () => {
    expect(slavePosAfter('0-1-1500,1-3-20', ['0-1-1501', '0-1-1502'])).toBe('0-1-1502,1-3-20');
    expect(slavePosAfter('0-1-1500', ['2-1-7'])).toBe('0-1-1500,2-1-7');
    expect(slavePosAfter('0-1-1500', ['0-1-9', undefined])).toBe('0-1-1500');
  });
});

describe('where the dead master keeps its binlog', () => {
  const remembered = { datadir: '/d/', logBinBasename: '/d/mysql-bin', logBinIndex: '/d/mysql-bin.index' };

  it('the remembered index, moved into binlogDir when one is configured; nothing known without either', () => {
    expect(knownIndex({ remembered })).toBe('/d/mysql-bin.index');
    expect(knownIndex({ remembered, binlogDir: '/b' })).toBe('/b/mysql-bin.index');
    expect(knownIndex({ remembered: { datadir: '/d/', logBinBasename: '/x/bin' } })).toBe('/x/bin.index');
    expect(knownIndex({ binlogDir: '/b' })).toBeUndefined();
  });

  it("from the host's configuration: log-bin-index, log-bin, else the one index file that is not a relay log's", () => {
    expect(
      pickIndex('datadir /var/lib/mysql\noption log_bin mysql-bin\nindex /var/lib/mysql/x.index', undefined),
    ).toEqual({ index: '/var/lib/mysql/mysql-bin.index', datadir: '/var/lib/mysql' });
    expect(pickIndex('datadir /d\noption log-bin /logs/b\noption log-bin-index /logs/b.idx', undefined)).toEqual({
      index: '/logs/b.idx',
      datadir: '/d',
    });
    expect(pickIndex('datadir /d\nindex /d/relay-bin.index\nindex /d/db1-bin.index', undefined)).toEqual({
      index: '/d/db1-bin.index',
      datadir: '/d',
    });
    expect(pickIndex('datadir /d\nindex /d/a.index\nindex /d/b.index', undefined)).toMatchObject({
      refusal: expect.stringContaining('several binlog index files in /d'),
    });
    expect(pickIndex('datadir /d\n', '/b')).toEqual({ refusal: 'no binlog index file (*.index) in /b' });
  });

  it('the remote scripts run in a plain shell: index files of a folder, read access to every listed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmmf-salvage-'));
    try {
      writeFileSync(join(dir, 'mysql-bin.index'), './mysql-bin.000001\n./mysql-bin.000002\n');
      writeFileSync(join(dir, 'relay-bin.index'), '');
      writeFileSync(join(dir, 'mysql-bin.000001'), 'x');
      const [cmd, ...args] = findIndexArgv(dir);
      const out = execFileSync(cmd!, args, { encoding: 'utf8' });
      expect(pickIndex(out, dir)).toMatchObject({ index: join(dir, 'mysql-bin.index') });
      const access = (...a: string[]) => {
        try {
          return execFileSync(a[0]!, a.slice(1), { encoding: 'utf8' }).trim();
        } catch (err) {
          return `exit ${(err as { status: number }).status}: ${String((err as { stdout: string }).stdout).trim()}`;
        }
      };
      expect(access(...binlogAccessArgv(join(dir, 'mysql-bin.index')))).toBe(
        `exit 3: cannot read ${join(dir, 'mysql-bin.000002')}`,
      );
      writeFileSync(join(dir, 'mysql-bin.000002'), 'x');
      expect(access(...binlogAccessArgv(join(dir, 'mysql-bin.index')))).toBe('ok 2 files');
      expect(access(...binlogAccessArgv(join(dir, 'nope.index')))).toMatch(/^exit 3: cannot read the binlog index/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the replay tools, the apply account and what mmmf remembers', () => {
  it('names the tools of the flavor and version, and the privilege that lets the account replay', () => {
    const maria = parseVersion('10.11.19-MariaDB');
    expect(replayTools(maria)).toEqual({ decode: 'mariadb-binlog', apply: 'mariadb', flavor: 'mariadb' });
    expect(replayTools(parseVersion('10.4.34-MariaDB')).decode).toBe('mysqlbinlog');
    expect(replayTools(parseVersion('8.4.3'))).toEqual({ decode: 'mysqlbinlog', apply: 'mysql', flavor: 'mysql' });
    expect(replayPrivilege(maria).anyOf).toEqual(['BINLOG REPLAY', 'SUPER']);
    expect(replayPrivilege(parseVersion('8.0.40')).anyOf).toEqual(['REPLICATION_APPLIER', 'SUPER']);
    expect(replayPrivilege(parseVersion('5.7.44')).anyOf).toEqual(['SUPER']);
  });

  it("writes the client's option file with the password quoted, TLS spelled per flavor", () => {
    const target = { host: '10.0.0.2', port: 3306, user: 'mmmf', password: 'a"b\\c\nd', ssl: { ca: '/ca.pem' } };
    expect(clientOptionFile(parseVersion('10.11.19-MariaDB'), target)).toBe(
      '[client]\nuser="mmmf"\npassword="a\\"b\\\\c\\nd"\nhost="10.0.0.2"\nport=3306\nprotocol=TCP\n' +
        'ssl-ca="/ca.pem"\nssl-verify-server-cert\n',
    );
    expect(clientOptionFile(parseVersion('8.0.40'), { ...target, socket: '/s.sock' })).toContain(
      'socket="/s.sock"\nssl-ca="/ca.pem"\nssl-mode=VERIFY_IDENTITY\n',
    );
  });

  it('the mariadb client reads that password back exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmmf-salvage-'));
    try {
      const file = join(dir, 'c.cnf');
      const password = 'p"w\\x y#z';
      writeFileSync(
        file,
        clientOptionFile(parseVersion('10.11.19-MariaDB'), { host: 'h', port: 1, user: 'u', password }),
      );
      const out = execFileSync('my_print_defaults', [`--defaults-file=${file}`, 'client'], { encoding: 'utf8' });
      expect(out.split('\n')).toContain(`--password=${password}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remembers where a host keeps its files, and recalls it only for the same address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmmf-state-'));
    try {
      const files = { datadir: '/d/', logBinIndex: '/d/mysql-bin.index' };
      rememberHosts(dir, [
        { name: 'db1', address: '10.0.0.1:3306', reachable: true, serverId: 1, files },
        { name: 'db2', address: '10.0.0.2:3306', reachable: false },
      ]);
      expect(recallHost(dir, 'db1', '10.0.0.1:3306')).toMatchObject({ name: 'db1', serverId: 1, files });
      expect(recallHost(dir, 'db1', '10.0.0.9:3306')).toBeUndefined();
      expect(recallHost(dir, 'db2', '10.0.0.2:3306')).toBeUndefined();
      expect(JSON.parse(readFileSync(join(dir, 'hosts', 'db1.json'), 'utf8')).address).toBe('10.0.0.1:3306');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what check and the summary say about a salvage', () => {
  const v = parseVersion('10.11.19-MariaDB');
  const config = { ...unitConfig(2), salvage: { maxBytes: 1 << 20, hosts: ['db1', 'db2'] } };
  const replica = { name: 'db2', address: '10.0.0.2:3306', reachable: true, version: v } as HostState;

  it('names a host whose binlog cannot be read, missing tools here, and an account that cannot replay', () => {
    const facts = {
      access: new Map([
        ['db1', { ok: true, detail: 'ok 3 files' }],
        ['db2', { ok: false, detail: 'cannot read /var/lib/mysql/mysql-bin.index' }],
      ]),
      tools: { ok: false, detail: 'mariadb-binlog not found' },
    };
    const withReplica = [{ ...replica, replica: {} as HostState['replica'] }];
    const grants = new Map([
      ['db2', { grants: ['GRANT SELECT, READ_ONLY ADMIN ON *.* TO `mmmf`@`%`'], replicationUserHosts: [] }],
    ]);
    expect(salvageFindings(config, withReplica, grants, facts).map((f) => `${f.host ?? '-'}: ${f.message}`)).toEqual([
      'db2: a failover while it is the master could not salvage what only its binlog holds: cannot read /var/lib/mysql/mysql-bin.index',
      '-: no salvage can be applied from this host: mariadb-binlog not found',
      "db2: the admin account lacks BINLOG REPLAY or SUPER for replaying a dead master's binlog (salvage): a salvage into db2 would be refused",
    ]);
    const all = new Map([['db2', { grants: ['GRANT ALL PRIVILEGES ON *.* TO `mmmf`@`%`'], replicationUserHosts: [] }]]);
    const ok = { access: new Map([['db1', { ok: true, detail: 'ok' }]]), tools: { ok: true, detail: 'ok' } };
    expect(salvageFindings(config, withReplica, all, ok)).toEqual([]);
    expect(salvageFindings(unitConfig(2), withReplica, grants, facts)).toEqual([]); // salvage: false
  });

  it('the summary says what was salvaged, what was dropped and what was not salvaged', () => {
    const lines = renderSalvage(
      {
        outcome: 'applied',
        oldMaster: 'db1',
        appliedTo: 'db2',
        transactions: 27,
        gtids: ['0-1-1501..1527'],
        positions: ['mysql-bin.000012:4711..9120'],
        tornTailBytes: 311,
        notSalvaged: {
          at: 'mysql-bin.000012:9120',
          reason: 'crc',
          detail: 'CRC32 mismatch',
          filesAfter: ['mysql-bin.000013'],
        },
        refusals: [],
        alreadyApplied: 10,
        bytesRead: 20000,
      },
      new Chalk({ level: 0 }),
    );
    expect(lines).toEqual([
      "Salvage of db1's binlog (over SSH)",
      '  ✔ 27 transactions applied to db2 (10 by the run this one resumed): 0-1-1501..1527, mysql-bin.000012:4711..9120',
      '  ! torn tail of 311 bytes dropped (a transaction db1 never finished writing)',
      "  ! NOT salvaged: db1's binlog from mysql-bin.000012:9120 on and mysql-bin.000013 (crc: CRC32 mismatch)",
    ]);
  });
});
