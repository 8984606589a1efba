/// <reference types="mocha" />
/**
 * Findings in the Problems data (`languages.getDiagnostics`): the lines examples/ marks with
 * `// problem:` get their codes, severities and ranges, files marked clean get none, and the
 * server reports files nobody opened (it analyses the whole workspace).
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { codeOf, fileUri, findingsBecome, open, span, until } from './util';

/** Per file: `code Severity startLine:startChar-endLine:endChar`, 0-based as the API counts. */
const EXPECTED: Record<string, string[]> = {
  // A 4 GiB virt map is fine on rack-a0 and hits rack-b0's 32-bit PCI window (pool rack).
  'rack-pool/guests/web-1.iommu': ['pool-ram-conflict Warning 4:2-4:24'],
  // pc-q35-7.0 does not relocate 1 TiB of RAM past AMD's HyperTransport hole.
  'qemu-amd-1tib/guests/train-old.iommu': ['ram-over-reserved Error 6:2-6:56'],
  // Seed 001: MSE alone clears BME on a quirky NIC (TDI to ERROR); INTx probe on a VF.
  'seed-001-tdisp-sev-tio/timelines/stock-driver.iommu': ['tdisp-bme-quirk Error 9:2-9:25', 'tdisp-avoidable-access Warning 20:2-20:22'],
  // Clean by examples/README.md.
  'rack-pool/guests/web-2.iommu': [],
  'qemu-amd-1tib/guests/train-new.iommu': [],
};

/**
 * A clean file and a file of its component with findings: no findings reads the same as
 * nothing published yet, so a clean file is checked once its component's findings are in.
 */
const SIBLING: Record<string, string> = {
  'rack-pool/guests/web-2.iommu': 'rack-pool/guests/web-1.iommu',
  'qemu-amd-1tib/guests/train-new.iommu': 'qemu-amd-1tib/guests/train-old.iommu',
};

suite('diagnostics', () => {
  for (const [file, expected] of Object.entries(EXPECTED)) {
    test(`${file}: ${expected.length ? expected.map((e) => e.split(' ')[0]).join(', ') : 'clean'}`, async () => {
      await open(file);
      const sibling = SIBLING[file];
      if (sibling) await findingsBecome(sibling, EXPECTED[sibling]!);
      await findingsBecome(file, expected);
    });
  }

  test("a finding carries related locations in other files (train-old: the host's HyperTransport hole)", async () => {
    await open('qemu-amd-1tib/guests/train-old.iommu');
    const uri = fileUri('qemu-amd-1tib/guests/train-old.iommu');
    const d = await until('ram-over-reserved on train-old', () =>
      vscode.languages.getDiagnostics(uri).find((x) => codeOf(x) === 'ram-over-reserved'),
    );
    assert.match(d.message, /overlaps the HyperTransport hole \(reserved 0xfd00000000\.\.0xffffffffff/);
    const related = (d.relatedInformation ?? []).map(
      (r) => `${vscode.workspace.asRelativePath(r.location.uri, false)} ${span(r.location.range)}`,
    );
    assert.ok(
      related.some((r) => r.startsWith('qemu-amd-1tib/hosts/epyc-genoa.iommu 7:')),
      `related: ${JSON.stringify(related)}`,
    );
  });

  test("files that were never opened are reported too (seed 004's VINTF with five streams)", async () => {
    const file = 'seed-004-smmu-cmdqv/vintf/vi-b.iommu';
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.toString() === fileUri(file).toString()), `${file} is already open`);
    await findingsBecome(file, ['cmdqv-too-many-streams Error 10:2-10:24']);
  });
});
