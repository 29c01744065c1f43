import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colours only for a person at a terminal: never when piped, never with NO_COLOR set (no-color.org),
 * always with FORCE_COLOR set.
 */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const on = forced || (!noColor && !!stream.isTTY && env.TERM !== 'dumb');
  return new Chalk({ level: on ? 1 : 0 });
}
