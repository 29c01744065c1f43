// A writer that reaches the master only through the writer VIP, as an application would: one ledger row
// per transaction, reconnecting whenever its connection fails. Prints "ack SEQ" for every acknowledged
// COMMIT and stops by itself after the given number of seconds (bounded in time and count).
//   node dist/harness/vip-writer.js VIP_HOST USER PASSWORD SECONDS WRITER_ID
import mysql from 'mysql2/promise';

const [host, user, password, seconds, writer] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;
let seq = 0;
while (Date.now() < until && seq < 1_000_000) {
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
      seq++;
      await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (?, ?)', [Number(writer), seq]);
      process.stdout.write(`ack ${seq} ${Date.now()}\n`);
    }
  } catch (err) {
    process.stdout.write(`err ${seq} ${Date.now()} ${String((err as Error).message).split('\n')[0]}\n`);
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    conn?.destroy();
  }
}
process.stdout.write('done\n');
