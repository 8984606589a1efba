// The types of noNodeBuiltins.mjs, for the test that imports it.
import type { Plugin } from 'esbuild';

export declare const noNodeBuiltins: Plugin;
