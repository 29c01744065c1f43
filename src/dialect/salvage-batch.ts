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

/** `BINLOG '` … base64 lines … `'/*!*\/;`: bytes the client passes through; base64 holds no quote. */
const BASE64 = /^[A-Za-z0-9+/=]*$/;
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

/**
 * Splits the decoder's statements in its delimiter block into pieces, up to the first one whose end is not
 * certain (`rest`: the index of its first line; from there on the text is applied as printed). The text is
 * latin1 (one character per byte: any byte passes through unchanged).
 */
function pieces(lines: string[]): { pieces: Piece[]; rest: number } {
  const out: Piece[] = [];
  for (let i = 0; i < lines.length;) {
    const line = lines[i] ?? '';
    if (line === '' || line.startsWith('#')) {
      out.push({ kind: 'comment', text: line });
      i++;
      continue;
    }
    if (line === "BINLOG '") {
      let j = i + 1;
      while (j < lines.length && BASE64.test(lines[j] ?? '')) j++;
      if (lines[j] !== `'${END}`) return { pieces: out, rest: i };
      out.push({ kind: 'last', text: lines.slice(i, j).join('\n') + "\n'" });
      i = j + 1;
      continue;
    }
    // A client command (`/*!\C utf8mb3 */`: the client switches its character set) stays a statement alone.
    if (/^\/\*!\\C [A-Za-z0-9_]+ \*\/\/\*!\*\/;$/.test(line)) {
      out.push({ kind: 'alone', text: line });
      i++;
      continue;
    }
    const stmt = plainStatement(lines, i);
    if (!stmt) return { pieces: out, rest: i };
    out.push({ kind: MIDDLE.test(stmt.text) ? 'joinable' : 'last', text: stmt.text });
    i = stmt.next;
  }
  return { pieces: out, rest: lines.length };
}

/** A statement whose lines hold nothing to lex, up to the line that ends with the delimiter. */
function plainStatement(lines: string[], i: number): { text: string; next: number } | undefined {
  const body: string[] = [];
  for (let j = i; j < lines.length; j++) {
    const line = lines[j] ?? '';
    const last = line.endsWith(END);
    const part = last ? line.slice(0, -END.length) : line;
    if (hasControl(part)) return undefined;
    if (!(PLAIN.test(part) && !part.includes('/*') && !part.includes('*/') && !part.includes('--'))) {
      if (!(last && j === i && EXEC_COMMENT.test(part))) return undefined;
    }
    body.push(part);
    if (last) {
      const text = body.join('\n');
      return text.trim() ? { text, next: j + 1 } : undefined;
    }
  }
  return undefined;
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
  const lines = sql.toString('latin1').split('\n');
  const open = lines.indexOf(`DELIMITER ${END}`);
  const close = lines.indexOf('DELIMITER ;', open + 1);
  if (open < 0 || close < 0) return undefined;
  const inside = pieces(lines.slice(open + 1, close));
  if (!inside.pieces.some((p) => p.kind === 'joinable')) return undefined;
  const out = [...lines.slice(0, open + 1), ...batches(inside.pieces, maxBytes)];
  out.push(...lines.slice(open + 1 + inside.rest));
  return Buffer.from(out.join('\n'), 'latin1');
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
