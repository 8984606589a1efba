/**
 * Keeps the settings in package.json in step with the engine: one
 * `iommuLens.diagnostics.severity` property per finding code (so settings.json offers
 * every code with its default and summary) and the `iommuLens.checksWhileTyping` enum
 * from the simulator's engines.
 *
 * Usage:  node --import tsx scripts/manifest.ts            rewrite package.json
 *         node --import tsx scripts/manifest.ts --check    exit 1 if package.json is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODES, ENGINE_IDS, ENGINES } from '../server/src/domains';
import { VFIO, VFIO_DESCRIPTION } from '../server/src/sim';
import { SEVERITY_LEVELS } from '../server/src/ide/severity';

const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');
const MANIFEST = join(ROOT, 'package.json');

/** What each engine checks, for the setting's enum descriptions. */
export const ENGINE_DESCRIPTIONS: Readonly<Record<string, string>> = Object.fromEntries([
  [VFIO, VFIO_DESCRIPTION],
  ...ENGINES.map((e) => [e.id, e.description]),
]);

type Json = Record<string, unknown>;

/** The two generated properties of `contributes.configuration.properties`. */
export function generatedSettings(): Json {
  const severity: Json = {};
  for (const [code, info] of Object.entries(CODES)) {
    severity[code] = {
      type: 'string',
      enum: [...SEVERITY_LEVELS],
      markdownDescription: `${info.summary} Default: \`${info.severity}\`.`,
    };
  }
  return {
    'iommuLens.diagnostics.severity': {
      type: 'object',
      default: {},
      markdownDescription:
        'Severity per diagnostic code: `error`, `warning`, `information`, `hint`, or `off` to hide it. ' +
        'Codes not listed keep their default. Every code is documented in `docs/diagnostics.md`. The CLI takes the same as `--severity CODE=LEVEL`.',
      properties: severity,
      additionalProperties: false,
    },
    'iommuLens.checksWhileTyping': {
      type: 'array',
      items: { type: 'string', enum: [...ENGINE_IDS], enumDescriptions: ENGINE_IDS.map((e) => ENGINE_DESCRIPTIONS[e]) },
      uniqueItems: true,
      default: [...ENGINE_IDS],
      markdownDescription:
        'The checks run on every edit. The others run when a file is opened or saved: until then their findings stay as of that last full run, ' +
        'except among the files linked by names to an edited one, where they are hidden. Syntax and names are always checked.',
    },
  };
}

/** package.json with the generated settings put in place (other settings and their order kept). */
export function withGeneratedSettings(text: string): string {
  const manifest = JSON.parse(text) as { contributes: { configuration: { properties: Json } } };
  const props = manifest.contributes.configuration.properties;
  Object.assign(props, generatedSettings());
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = readFileSync(MANIFEST, 'utf8');
  const next = withGeneratedSettings(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error('package.json: generated settings are stale; run npm run docs');
      process.exit(1);
    }
  } else if (next !== text) {
    writeFileSync(MANIFEST, next);
    console.log('package.json: settings regenerated');
  }
}
