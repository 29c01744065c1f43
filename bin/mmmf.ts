#!/usr/bin/env node
// Entry point: runs the command line (bin/cli.ts, bundled with everything it uses into cli.cjs next to this file
// by tools/bundle.ts) with a V8 code cache, so a run skips compiling what an earlier run of the command compiled.
import { runBundle } from '../src/startup/code-cache.js';

/** The bundle's file name and the hash of its content, written in by tools/bundle.ts. */
declare const MMMF_CLI: { file: string; hash: string };

runBundle(new URL(MMMF_CLI.file, import.meta.url), MMMF_CLI.hash, (url) => import(url));
