// The light string-width the bundle puts under yargs' help layout (and listr2 on a terminal): the columns a
// terminal gives each string, so help columns line up whatever the text holds.
import { describe, expect, it } from 'vitest';
import textWidth from '../../src/output/text-width.js';

describe('textWidth', () => {
  it.each([
    ['', 0],
    ['--failover-to NAME', 18],
    ['\u001B[31mred\u001B[39m', 3],
    ['\u001B[1m\u001B[4mbold underlined\u001B[24m\u001B[22m', 15],
    ['\u001B]8;;https://example.org\u0007link\u001B]8;;\u0007', 4],
    ['\u009B31mC1 introducer\u009B39m', 13],
    ['ab古\u001B[1mc\u001B[22m', 5],
  ])('ANSI escape sequences take no column: %j is %i wide', (text, width) => {
    expect(textWidth(text)).toBe(width);
  });

  it.each([
    ['古池や', 6],
    ['한국어', 6],
    ['ＡＢＣ', 6],
    ['ｱﾞ', 2],
    ['Exit codes: 0 done · 1 failed — see → README', 44],
    ['é', 1],
    ['e\u0301', 1],
    ['a\u200Bb', 2],
    ['a\u00ADb', 2],
    ['\u0007bell\ttab', 7],
  ])('wide, narrow, combining and invisible characters: %j is %i wide', (text, width) => {
    expect(textWidth(text)).toBe(width);
  });

  it.each([
    ['👍', 2],
    ['❤', 1],
    ['❤️', 2],
    ['👍🏽', 2],
    ['🏽', 2],
    ['👨‍👩‍👧', 2],
    ['👁️‍🗨️', 2],
    ['🇩🇪', 2],
    ['1️⃣', 2],
    ['ok 👍 ok', 8],
  ])('an emoji sequence is one two-column glyph: %j is %i wide', (text, width) => {
    expect(textWidth(text)).toBe(width);
  });

  it('is 0 for what is not a string (string-width does the same)', () => {
    expect(textWidth(undefined as unknown as string)).toBe(0);
  });
});
