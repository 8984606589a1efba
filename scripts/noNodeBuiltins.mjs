// An esbuild plugin for the browser bundles (scripts/build.mjs).
import { builtinModules } from 'node:module';

const NODE_BUILTINS = new Set(builtinModules);

/**
 * The browser bundles must not need Node: an import of a built-in (`node:fs`, `path`, ...)
 * fails the build, naming who imported it, rather than being left for a polyfill or an
 * empty module to hide until the code runs in a browser.
 */
export const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!args.path.startsWith('node:') && !NODE_BUILTINS.has(name.split('/')[0])) return undefined;
      return { errors: [{ text: `${args.path} is a Node built-in, imported by ${args.importer}: the browser bundles cannot use Node` }] };
    });
  },
};
