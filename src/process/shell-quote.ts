/**
 * One argument for a POSIX shell, single-quoted: nothing inside is expanded, whatever it holds
 * (quotes, `$`, `;`, backticks, spaces). ssh hands the remote command to the remote user's shell.
 */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
