/**
 * The server's settings, status and log over stdio, on a copy of the seed-001 workspace:
 * severity overrides (from the initialization options and from a configuration change),
 * checks left out while typing and run again on save, the `iommuLens/status`
 * notification and the log at the configured level.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidSaveTextDocumentNotification,
  MessageType,
} from 'vscode-languageserver-protocol/node';
import { Client } from './client';

describe('settings, status and log over stdio', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-settings-'));
  const uriOf = (rel: string) => pathToFileURL(join(dir, rel)).href;
  const STOCK = 'timelines/stock-driver.iommu';
  let client: Client;

  before(async () => {
    // Seed 001, and seed 002 beside it as another component.
    cpSync(join(import.meta.dirname, '..', '..', 'examples', 'seed-001-tdisp-sev-tio'), dir, { recursive: true });
    cpSync(join(import.meta.dirname, '..', '..', 'examples', 'seed-002-arm-msi-migration'), join(dir, 'seed-002'), { recursive: true });
    client = new Client();
    await client.initialize(dir, {
      initializationOptions: {
        debounceMs: 0,
        logLevel: 'debug',
        checksWhileTyping: ['vfio', 'pools'],
        diagnostics: { severity: { 'tdisp-avoidable-access': 'off', 'sev-mixed-instance': 'warning', 'no-such-code': 'error' } },
      },
    });
  });

  after(async () => {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('severity overrides from the initialization options; an unknown code is a warning in the log', async () => {
    const mixed = await client.diagnostic(uriOf('guests/tio-mixed.iommu'), 'sev-mixed-instance');
    assert.equal(mixed.severity, DiagnosticSeverity.Warning);
    await client.diagnostic(uriOf(STOCK), 'tdisp-bme-quirk');
    assert.ok(!client.codes(uriOf(STOCK)).includes('tdisp-avoidable-access'), 'off hides the code');
    const warning = client.logs.find((l) => l.type === MessageType.Warning);
    assert.match(warning?.message ?? '', /settings: iommuLens\.diagnostics\.severity: unknown diagnostic code 'no-such-code'/);
  });

  test('a status notification after each run counts the findings; the debug log times the stages', async () => {
    await client.until(() => client.statuses.some((s) => s.state === 'ready'), 'a ready status');
    const ready = client.statuses.find((s) => s.state === 'ready')!;
    const published = [...client.latest.values()].flat();
    assert.equal(ready.errors, published.filter((d) => d.severity === DiagnosticSeverity.Error).length);
    assert.equal(ready.warnings, published.filter((d) => d.severity === DiagnosticSeverity.Warning).length);
    assert.ok(ready.files >= 13);
    assert.deepEqual(ready.skipped, []);
    await client.until(
      () =>
        client.logs.some((l) =>
          /^analysed \d+ files \(\d+ parsed anew; \d+ of \d+ components modelled anew\) in \d+ ms: parse/.test(l.message),
        ),
      'the debug log',
    );
  });

  test('while typing only the chosen checks run; saving runs the others again', async () => {
    const uri = uriOf(STOCK);
    const text = readFileSync(join(dir, STOCK), 'utf8');
    await client.open(uri, text);
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      // Inside the timeline: the unit of reuse is the declaration, so the edit must touch the one whose findings go.
      contentChanges: [{ text: text.replace(/(\ntimeline [^\n]*\{\n)/, '$1  // typing\n') }],
    });
    await client.until(() => !client.codes(uri).includes('tdisp-bme-quirk'), 'the timeline finding to leave the edited file');
    await client.until(
      () => !client.codes(uriOf('timelines/pf-reset.iommu')).includes('tdisp-vf-reset'),
      'the rest of its component to lose them too',
    );
    assert.ok(
      client.codes(uriOf('seed-002/timelines/evacuate-vm-db.iommu')).includes('ram-over-reserved'),
      'another component keeps its timeline findings',
    );
    await client.until(
      () => JSON.stringify(client.statuses.at(-1)?.skipped) === JSON.stringify(['timelines', 'firmware', 'xen', 'cmdqv']),
      'a status naming the skipped checks',
    );

    await client.conn.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
    await client.diagnostic(uri, 'tdisp-bme-quirk');
    await client.diagnostic(uriOf('timelines/pf-reset.iommu'), 'tdisp-vf-reset');
  });

  test('a configuration change applies new severities at once', async () => {
    await client.conn.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { iommuLens: { debounceMs: 0, diagnostics: { severity: { 'tdisp-bme-quirk': 'hint' } } } },
    });
    const uri = uriOf(STOCK);
    await client.until(
      () => client.latest.get(uri)?.find((d) => d.code === 'tdisp-bme-quirk')?.severity === DiagnosticSeverity.Hint,
      'the hint',
    );
    await client.diagnostic(uri, 'tdisp-avoidable-access');
  });
});
