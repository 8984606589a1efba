/**
 * Loading a large workspace does not hold the server: the analysis runs in slices, and a
 * request that needs no analysis (formatting) is answered while the first analysis is
 * still under way, before any diagnostics are published.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { DocumentFormattingRequest } from 'vscode-languageserver-protocol/node';
import { Client } from './client';

const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-large-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 300 hosts of 60 lines and a guest each: about 20k lines, a second or more to load. */
function writeWorkspace(): void {
  for (let h = 0; h < 300; h++) {
    const devices = Array.from(
      { length: 50 },
      (_, d) => `  device nic${d} { bdf 0000:${(d + 1).toString(16).padStart(2, '0')}:00.0; iommu vtd0; group ${d} }`,
    );
    writeFileSync(
      join(dir, `host${h}.iommu`),
      [
        `platform host${h} {`,
        '  arch x86_64',
        '  iommu vtd0 intel-vt-d { address-width 48 }',
        '  reserved ioapic msi 0xfee00000..0xfeefffff',
        ...devices,
        '}',
        `guest vm${h} on host${h} {`,
        '  machine q35 memory 8G',
        '  assign nic0',
        '}',
        '',
      ].join('\n'),
    );
  }
}

test('a formatting request is answered while the first analysis of a large workspace runs', async () => {
  writeWorkspace();
  const client = new Client();
  try {
    await client.initialize(dir);
    await client.until(() => client.statuses.some((s) => s.state === 'analysing'), 'the first analysis to start', 60_000);
    const uri = pathToFileURL(join(dir, 'host7.iommu')).href;
    const edits = await client.conn.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
    assert.ok(Array.isArray(edits));
    assert.equal(client.latest.size, 0, 'answered before the first diagnostics');
    await client.until(() => client.latest.size === 300, "every file's diagnostics", 120_000);
  } finally {
    await client.stop();
  }
});
