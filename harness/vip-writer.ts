// A writer that reaches the master only through the writer VIP, as an application would: one ledger row
// per transaction, reconnecting whenever its connection fails. Prints "ack SEQ MS" for every acknowledged
// COMMIT and "err SEQ MS MESSAGE" for every failure, and stops by itself after the given number of seconds
// (bounded in time and count; every connect and query has a deadline, so a silent server cannot hang it).
// A failed write is tried again with the same seq (a duplicate key then means it had committed): the ledger
// stays gap-free. With `stop-on-error` it stops at its first failure instead (a test that cuts the master
// off the network and must not see later writes land elsewhere).
//   node dist/harness/vip-writer.js VIP_HOST USER PASSWORD SECONDS WRITER_ID [stop-on-error]
import mysql from 'mysql2/promise';

const [host, user, password, seconds, writer, mode] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;
const stopOnError = mode === 'stop-on-error';
let seq = 1;
let failed = false;
while (Date.now() < until && seq < 1_000_000 && !failed) {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({
      host: host!,
      port: 3306,
      user: user!,
      password: password!,
      connectTimeout: 1000,
    });
    conn.on('error', () => {});
    while (Date.now() < until) {
      try {
        await conn.query({ sql: 'INSERT INTO sbtest.ledger (writer, seq) VALUES (?, ?)', timeout: 3000 }, [
          Number(writer),
          seq,
        ]);
      } catch (err) {
        if ((err as { errno?: number }).errno !== 1062) throw err;
        process.stdout.write(`dup ${seq} ${Date.now()}\n`);
        seq++;
        continue;
      }
      process.stdout.write(`ack ${seq} ${Date.now()}\n`);
      seq++;
    }
  } catch (err) {
    process.stdout.write(`err ${seq} ${Date.now()} ${String((err as Error).message).split('\n')[0]}\n`);
    failed = stopOnError;
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    conn?.destroy();
  }
}
// Exit now: a connection left half-open to a silent server would keep the process alive after the deadline.
process.stdout.write('done\n', () => process.exit(0));
