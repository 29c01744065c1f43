/**
 * import() of a file by URL (a .js or .mjs config). Inside the bundle, which runs from a V8 code cache where
 * import() fails, tools/bundle.ts puts bundled-import-file.ts in this file's place.
 */
export const importFile = (url: string): Promise<unknown> => import(url);
