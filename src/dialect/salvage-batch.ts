// The decoder prints one statement per round trip of the apply client: a ROW transaction is three to five
// (GTID, START TRANSACTION, BINLOG, COMMIT, a timestamp), and a salvage of 1,000 spent most of its apply
// waiting for them. Statements the decoder prints in known shapes are joined into multi-statement batches
// (the client sends each batch in one round trip; the server runs its statements in order, in the same
// session, and stops at the first error). Only text whose statement boundaries are certain is regrouped:
// from a statement that quotes, escapes or comments anything it would take a lexer to follow, the file is
// applied as the decoder printed it.
//
// A batch ends with its first statement that is not a plain SET or transaction boundary: MariaDB 10.11 answers
// a BINLOG statement of row events without the "more results" flag, so the client takes the rest of the batch's
// answers for the next batch's and both sides end up waiting on each other (measured: a 1 MiB batch hung in
// "Writing to net"). The statement that ends a batch is its last, so nothing is answered after it.

/** The decoder's delimiter between statements, while its `DELIMITER /*!*\/;` is in force. */
const END = '/*!*/;';
/** A batch's size cap: far below max_allowed_packet (16 MiB by default, on both sides). */
export const BATCH_BYTES = 1 << 20;

/** `/*M!100001 SET @@session.gtid_seq_no=5*\/` (an executable comment holding one plain statement). */
const EXEC_COMMENT = /^\/\*M?!\d* [^'"`\\#;*/-]*\*\/$/;
/** Nothing a lexer would have to follow: quotes, escapes, comments, separators (and no control byte). */
const PLAIN = /^[^'"`\\#;]*$/;
/** A control byte (NUL, CR, ...) but tab: the client may treat it as more than text. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 32 && s.charCodeAt(i) !== 9) return true;
  return false;
}

/**
 * `joinable`: a plain SET or transaction boundary (answered with the flag); `last`: anything else the batch may
 * end with (a BINLOG, a DDL); `alone`: a client command, never sent along with anything.
 */
type Piece = { kind: 'comment' | 'joinable' | 'last' | 'alone'; text: string };

/** Statements answered with the "more results" flag, checked on MariaDB 10.11 (test/live/salvage-batch). */
const MIDDLE = /^(SET [^\n]*|\/\*M?!\d* SET [^\n]*|START TRANSACTION\n?|BEGIN\n?|COMMIT\n?|ROLLBACK\n?)$/;

/** The line of `s` that starts at `at` (to `to` at most), and where the next one starts. */
function lineAt(s: string, at: number, to: number): { line: string; next: number } {
  const eol = s.indexOf('\n', at);
  const end = eol < 0 || eol > to ? to : eol;
  return { line: s.slice(at, end), next: end + 1 };
}

/** Base64 and line breaks only, from `lastIndex` on (sticky: matched in place, no copy of the text). */
const BASE64_RUN = /[A-Za-z0-9+/=\n]*/y;

/**
 * Splits the decoder's statements in its delimiter block (`from`..`to` of the text) into pieces, up to the first
 * one whose end is not certain (`rest`: where it starts; from there on the text is applied as printed). The
 * text is latin1 (one character per byte: any byte passes through unchanged). Walked by position: a 10 MB
 * salvage prints about 250,000 lines of base64, which are checked in one pass each, never split.
 */
function pieces(s: string, from: number, to: number): { pieces: Piece[]; rest: number } {
  const out: Piece[] = [];
  for (let i = from; i < to;) {
    const { line, next } = lineAt(s, i, to);
    if (line === '' || line.startsWith('#')) {
      out.push({ kind: 'comment', text: line });
      i = next;
      continue;
    }
    if (line === "BINLOG '") {
      const close = s.indexOf(`\n'${END}`, next - 1);
      const after = close + 2 + END.length;
      BASE64_RUN.lastIndex = next;
      BASE64_RUN.exec(s);
      const whole = close >= 0 && after <= to && (after === to || s[after] === '\n') && BASE64_RUN.lastIndex >= close;
      if (!whole) return { pieces: out, rest: i };
      out.push({ kind: 'last', text: s.slice(i, close) + "\n'" });
      i = after + 1;
      continue;
    }
    // A client command (`/*!\C utf8mb3 */`: the client switches its character set) stays a statement alone.
    if (/^\/\*!\\C [A-Za-z0-9_]+ \*\/\/\*!\*\/;$/.test(line)) {
      out.push({ kind: 'alone', text: line });
      i = next;
      continue;
    }
    const stmt = plainStatement(s, i, to);
    if (!stmt) return { pieces: out, rest: i };
    out.push({ kind: MIDDLE.test(stmt.text) ? 'joinable' : 'last', text: stmt.text });
    i = stmt.next;
  }
  return { pieces: out, rest: to };
}

/** A statement whose lines hold nothing to lex, up to the line that ends with the delimiter. */
function plainStatement(s: string, i: number, to: number): { text: string; next: number } | undefined {
  const body: string[] = [];
  for (let at = i; at < to;) {
    const { line, next } = lineAt(s, at, to);
    const last = line.endsWith(END);
    const part = last ? line.slice(0, -END.length) : line;
    if (hasControl(part)) return undefined;
    if (!(PLAIN.test(part) && !part.includes('/*') && !part.includes('*/') && !part.includes('--'))) {
      if (!(last && at === i && EXEC_COMMENT.test(part))) return undefined;
    }
    body.push(part);
    if (last) {
      const text = body.join('\n');
      return text.trim() ? { text, next } : undefined;
    }
    at = next;
  }
  return undefined;
}

/** Where the line `line` starts in `s`, from `from` on (a whole line: after a line break or at the start). */
function lineIndex(s: string, line: string, from: number): number {
  for (let at = s.indexOf(line, from); at >= 0; at = s.indexOf(line, at + 1)) {
    const end = at + line.length;
    if ((at === 0 || s[at - 1] === '\n') && (end === s.length || s[end] === '\n')) return at;
  }
  return -1;
}

/**
 * Pure: the decoded SQL with the statements of its delimiter block joined into batches of at most `maxBytes`,
 * each sent by the client as one multi-statement query, up to the first statement whose end is not certain
 * (a quoted value in a statement-based event: from there on it is applied as printed); undefined when nothing
 * could be joined. Lines outside the block pass through unchanged.
 *
 * @example "DELIMITER /*!*\/;\nSET TIMESTAMP=1/*!*\/;\nCOMMIT/*!*\/;\nDELIMITER ;\n" →
 *          "DELIMITER /*!*\/;\nSET TIMESTAMP=1;\nCOMMIT/*!*\/;\nDELIMITER ;\n"
 */
export function batchStatements(sql: Buffer, maxBytes = BATCH_BYTES): Buffer | undefined {
  const s = sql.toString('latin1');
  const open = lineIndex(s, `DELIMITER ${END}`, 0);
  const from = open + `DELIMITER ${END}`.length + 1;
  const close = open < 0 ? -1 : lineIndex(s, 'DELIMITER ;', from);
  if (open < 0 || close < 0) return undefined;
  const inside = pieces(s, from, close - 1);
  if (!inside.pieces.some((p) => p.kind === 'joinable')) return undefined;
  const kept = inside.rest >= close - 1 ? s.slice(close) : s.slice(inside.rest);
  const text = [s.slice(0, from), ...batches(inside.pieces, maxBytes).map((l) => `${l}\n`), kept].join('');
  return Buffer.from(text, 'latin1');
}

/** The pieces as lines: statements in batches (each ending at its first `last`), a client command alone. */
function batches(pieces: Piece[], maxBytes: number): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let size = 0;
  const flush = () => {
    if (batch.length) out.push(batch.join(';\n') + END);
    batch = [];
    size = 0;
  };
  for (const p of pieces) {
    if (p.kind === 'comment') {
      if (!batch.length) out.push(p.text);
      continue; // inside a batch a comment would only be sent along
    }
    if (p.kind === 'alone') {
      flush();
      out.push(p.text);
      continue;
    }
    if (size + p.text.length > maxBytes) flush();
    batch.push(p.text);
    size += p.text.length + 2;
    if (p.kind === 'last') flush();
  }
  flush();
  return out;
}
