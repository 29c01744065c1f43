// import-file.ts inside the bundle: the entry point's own import() (bin/mmmf.ts hands it to the bundle, see
// startup/code-cache.ts), since code run from a V8 code cache cannot import().
declare const __mmmfImport: (url: string) => Promise<unknown>;

export const importFile = (url: string): Promise<unknown> => __mmmfImport(url);
