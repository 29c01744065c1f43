/**
 * Where a run's time goes, for `--debug` and `--json`: each mark ends a span named for what was done in it, in
 * milliseconds since the process started (`performance.now()` counts from Node's start), so the first span is
 * the start-up: Node, the bundle, the command's modules. One timeline per process (one command per process).
 *
 * @example mark('config'); ...; mark('probe'); spans() // [{ name: 'start-up', ms: 92 }, { name: 'config', ms: 8 }, ...]
 */
export interface Span {
  name: string;
  ms: number;
}

const marks: { name: string; at: number }[] = [];

/** Ends the span that started at the previous mark (or at the process's start) and names it. */
export function mark(name: string): void {
  marks.push({ name, at: performance.now() });
}

/** The spans so far, in order; a name marked twice (two phases of one kind) adds up. */
export function spans(): Span[] {
  const out: Span[] = [];
  let last = 0;
  for (const m of marks) {
    const ms = Math.round((m.at - last) * 10) / 10;
    const same = out.find((s) => s.name === m.name);
    if (same) same.ms = Math.round((same.ms + ms) * 10) / 10;
    else out.push({ name: m.name, ms });
    last = m.at;
  }
  return out;
}

/** One line for the run log: `start-up 92 ms · config 8 ms · … · total 310 ms`. */
export function timelineText(): string {
  const all = spans();
  const total = Math.round(marks.at(-1)?.at ?? 0);
  return `${all.map((s) => `${s.name} ${Math.round(s.ms)} ms`).join(' · ')} · total ${total} ms`;
}
