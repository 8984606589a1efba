/**
 * The extension manifest (package.json) says what the code does: activation on the
 * language, every command registered by the client, every setting the server reads
 * declared (the per-code severities and the engines generated from the engine itself),
 * the icons present, untrusted workspaces supported.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CODES, ENGINE_IDS } from '../../server/src/domains';
import { withGeneratedSettings } from '../../scripts/manifest';
import { DEFAULT_SETTINGS, LOG_LEVELS, MAX_FILE_SIZE_CAP, readSettings } from '../../server/src/lsp/settings';

const ROOT = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(ROOT, 'package.json'), 'utf8');
interface Setting {
  type: string;
  default?: unknown;
  enum?: string[];
  properties?: Record<string, Setting>;
  items?: Setting;
}
const manifest = JSON.parse(text) as {
  icon: string;
  activationEvents: string[];
  main: string;
  capabilities: { untrustedWorkspaces: { supported: boolean | string; restrictedConfigurations?: string[] } };
  contributes: {
    languages: { id: string; icon: { light: string; dark: string } }[];
    commands: { command: string }[];
    configuration: { properties: Record<string, Setting> };
  };
};
const props = manifest.contributes.configuration.properties;

test('the generated settings are current (npm run docs regenerates them)', () => {
  assert.equal(withGeneratedSettings(text), text);
  assert.deepEqual(Object.keys(props['iommuLens.diagnostics.severity']!.properties!), Object.keys(CODES));
  assert.deepEqual(props['iommuLens.checksWhileTyping']!.items!.enum, [...ENGINE_IDS]);
  assert.deepEqual(props['iommuLens.checksWhileTyping']!.default, [...ENGINE_IDS]);
});

test("the declared defaults are the server's defaults, and it accepts them all", () => {
  // The settings as VS Code hands them over: nested objects along the dots, minus the section.
  const raw: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(props)) {
    const path = key.split('.').slice(1);
    let at = raw;
    for (const p of path.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = setting.default;
  }
  const { settings, problems } = readSettings(raw);
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  assert.deepEqual(props['iommuLens.logLevel']!.enum, [...LOG_LEVELS]);
  assert.deepEqual(Object.keys(raw).sort(), ['checksWhileTyping', 'debounceMs', 'diagnostics', 'logLevel', 'maxFileSize', 'trace']);
});

test('activation, commands, icons and workspace trust', () => {
  assert.ok(manifest.activationEvents.includes('onLanguage:iommu'));
  const client = readdirSync(join(ROOT, 'client', 'src'))
    .map((f) => readFileSync(join(ROOT, 'client', 'src', f), 'utf8'))
    .join('\n');
  for (const { command } of manifest.contributes.commands)
    assert.ok(client.includes(`registerCommand('${command}'`), `${command} is registered`);
  const png = readFileSync(join(ROOT, manifest.icon));
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128], 'a 128x128 icon');
  const language = manifest.contributes.languages.find((l) => l.id === 'iommu')!;
  for (const f of [language.icon.light, language.icon.dark]) assert.ok(existsSync(join(ROOT, f)), f);
  // Limited: a workspace's own settings must not raise the file size limit (user settings still may, up to the server's cap).
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ['iommuLens.maxFileSize']);
  assert.equal((props['iommuLens.maxFileSize'] as { maximum?: number }).maximum, MAX_FILE_SIZE_CAP);
});
