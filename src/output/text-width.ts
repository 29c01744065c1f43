// The columns a string takes on a terminal: what `string-width` computes, without its start-up cost. The bundled
// CLI uses this module wherever yargs, cliui, wrap-ansi or listr2 import 'string-width' (an alias in
// tools/bundle.ts): the packages' own version builds an Intl.Segmenter at import and runs every character of the
// help text through a grapheme segmenter and an emoji regex, which was most of `mmmf --help`'s run time.
import { eastAsianWidth } from 'get-east-asian-width';
import stripAnsi from 'strip-ansi';

const ZWJ = '\u200D';
const VS16 = '\uFE0F';
/** Marks that draw on the character before, controls and invisible format characters take no column. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cc}\p{Default_Ignorable_Code_Point}]$/u;
const EMOJI = /^\p{Emoji}$/u;
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;
const MODIFIER = /^\p{Emoji_Modifier}$/u;
const MODIFIER_BASE = /^\p{Emoji_Modifier_Base}$/u;

/**
 * Columns of one character given the one before it. Emoji sequences draw as one two-column glyph: a pictograph
 * joined by ZWJ and a skin tone after its base add nothing, VS16 widens a text-style emoji (❤ → ❤️) to two.
 * Ambiguous-width characters count as narrow, as string-width does by default.
 */
function charWidth(ch: string, prev: string, prevWidth: number): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (prev === ZWJ && PICTOGRAPH.test(ch)) return 0;
  if (ch === VS16) return prevWidth === 1 && EMOJI.test(prev) ? 1 : 0;
  if (ZERO_WIDTH.test(ch)) return 0;
  if (MODIFIER.test(ch) && MODIFIER_BASE.test(prev)) return 0;
  return eastAsianWidth(cp);
}

/** Example: `textWidth('\x1b[1m古池\x1b[22m ok')` is 7 (escape sequences take no column, a CJK character two). */
export default function textWidth(text: string): number {
  if (typeof text !== 'string' || text === '') return 0;
  const s = text.includes('\u001B') || text.includes('\u009B') ? stripAnsi(text) : text;
  // Nearly every string yargs measures is printable ASCII: one column per character.
  if (/^[\u0020-\u007E]*$/.test(s)) return s.length;
  let width = 0;
  let prev = '';
  let prevWidth = 0;
  for (const ch of s) {
    const w = charWidth(ch, prev, prevWidth);
    width += w;
    prev = ch;
    prevWidth = w;
  }
  return width;
}
