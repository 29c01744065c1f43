// The drain step with a scripted replica: a SQL thread stopped at the end of its relay log has applied everything,
// whatever its coordinates say. The status is the one of chaos seed 70707's lifted delayed replica (test3): its
// delay was lifted by relay-log position, so MariaDB counted the old master's position on from the received one
// (executed mysql-bin.000002:26828705, received 23840017); then a step stopped it with its relay log applied.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/algorithm/plan-types.js';
import { dialectFor } from '../../src/dialect/dialect.js';
import { PlanRun } from '../../src/executor/run-plan.js';
import { fakeConn, step } from './fixture-executor.js';
import { unitConfig } from './fixture-config.js';

const d = dialectFor({ flavor: 'mariadb', major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' });
const config = unitConfig(3, { timeouts: { connect: 1, drain: 1, equalize: 1, verify: 1, hook: 1 } });
const STATUS = {
  Slave_IO_State: '',
  Master_Host: '127.0.0.1',
  Master_User: 'repl',
  Master_Port: '3306',
  Master_Log_File: 'mysql-bin.000002',
  Read_Master_Log_Pos: '23840017',
  Relay_Log_File: 'relay-bin.000004',
  Relay_Log_Pos: '23840316',
  Relay_Master_Log_File: 'mysql-bin.000002',
  Slave_IO_Running: 'No',
  Slave_SQL_Running: 'No',
  Last_Errno: '0',
  Last_Error: '',
  Exec_Master_Log_Pos: '26828705',
  Relay_Log_Space: '50667562',
  Seconds_Behind_Master: 'NULL',
  Last_IO_Errno: '2003',
  Last_IO_Error:
    "error reconnecting to master 'repl@127.0.0.1:3306' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '127.0.0.1' (111 \"Connection refused\")",
  Last_SQL_Errno: '0',
  Last_SQL_Error: '',
  Master_Server_Id: '1',
  Using_Gtid: 'No',
  Gtid_IO_Pos: '0-1-2104',
  SQL_Delay: '0',
  Slave_SQL_Running_State: '',
  Master_SSL_Allowed: 'No',
};
const ROW = (event: string) => {
  const [Log_name, Pos, Event_type, Server_id, End_log_pos, Info] = event.split('\t');
  return { Log_name, Pos, Event_type, Server_id, End_log_pos, Info };
};

function drain(relay: (sql: string) => Record<string, unknown>[]) {
  const db3 = fakeConn('db3', undefined, (sql) =>
    /SHOW SLAVE STATUS/.test(sql) ? [STATUS] : /SHOW RELAYLOG EVENTS/.test(sql) ? relay(sql) : [],
  );
  const plan: Plan = {
    kind: 'failover',
    target: 'db3',
    oldMaster: { address: '10.0.0.1:3306', name: 'db1', reachable: false },
    best: 'db3',
    positioning: 'file',
    positioningWhy: 'test',
    hosts: [],
    warnings: [],
    steps: [step(1, 'db3', { kind: 'drain-relay-log', trustCoordinates: true }, [], 'drain')],
  };
  const run = new PlanRun(plan, { config, conns: new Map([['db3', db3.conn]]), dialects: new Map([['db3', d]]) });
  return { results: run.runAll(), db3 };
}

describe('draining a stopped replica whose coordinates cannot be trusted', () => {
  it('at the end of its relay log: drained, nothing started (chaos seed 70707)', async () => {
    const { results, db3 } = drain(() => []);
    const [r] = await results;
    expect([r?.status, r?.detail]).toEqual([
      'done',
      'nothing left to apply: its SQL thread stands at the end of its relay log (relay-bin.000004:23840316)',
    ]);
    expect(db3.sent.filter((s) => /START/.test(s))).toEqual([]);
  });

  it('at the end of a relay file whose next one holds only headers: drained too', async () => {
    const { results } = drain((sql) =>
      /'relay-bin.000004'/.test(sql)
        ? [ROW('relay-bin.000004\t23840316\tRotate\t3\t23840363\trelay-bin.000005;pos=4')]
        : [
            ROW('relay-bin.000005\t4\tFormat_desc\t3\t256\tServer ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4'),
            ROW('relay-bin.000005\t256\tRotate\t1\t0\tmysql-bin.000002;pos=23840017'),
          ],
    );
    expect((await results)[0]?.status).toBe('done');
  });

  it('with a transaction still ahead of it: failed, left as it is (a start could discard the relay log)', async () => {
    const { results, db3 } = drain(() => [ROW('relay-bin.000004\t23840316\tGtid\t1\t23840059\tBEGIN GTID 0-1-2105')]);
    const [r] = await results;
    expect([r?.status, r?.detail]).toEqual([
      'failed',
      'the SQL thread stopped while applying its relay log; left as it is',
    ]);
    expect(db3.sent.filter((s) => /START/.test(s))).toEqual([]);
  });
});
