// What a returning former master holds that the master lacks: the decision between rejoin and refusal.
import { describe, expect, it } from 'vitest';
import { extraTransactions } from '../../src/binlog/gtid.js';

const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const V = '4f22ab58-82db-22f2-af44-d91bb0530673';

describe('extraTransactions', () => {
  it.each([
    // MariaDB gtid_binlog_state: per domain and origin server.
    ['mariadb', '0-1-10', '0-1-10,0-2-15', []],
    ['mariadb', '0-1-11,0-2-9', '0-1-10,0-2-11', ['0-1-11']],
    ['mariadb', '0-1-12', '0-1-10,0-2-11', ['0-1-11..12']],
    // 0-2-11 on the new master does not cover 0-1-11 written on the old one (same sequence number).
    ['mariadb', '0-1-11', '0-2-11', ['0-1-1..11']],
    ['mariadb', '0-1-5,1-1-3', '0-1-5,1-1-2', ['1-1-3']],
    ['mariadb', '', '0-1-5', []],
    // MySQL gtid_executed: set difference.
    ['mysql', `${U}:1-10`, `${U}:1-10,${V}:1-4`, []],
    ['mysql', `${U}:1-12`, `${U}:1-10,${V}:1-4`, [`${U}:11-12`]],
  ] as const)('%s: %s against %s → %j', (flavor, own, master, extra) => {
    expect(extraTransactions(flavor, own, master)).toEqual(extra);
  });
});
