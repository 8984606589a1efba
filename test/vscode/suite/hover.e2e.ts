/// <reference types="mocha" />
/**
 * Hover explains a mapping: on train-old's `machine` line, the RAM QEMU lays out, which
 * part VFIO maps for the assigned GPU and which it refuses, and the reserved region in the way.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { fileUri, open, span, until } from './util';

function text(h: vscode.Hover): string {
  return h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
}

suite('hover', () => {
  test("train-old's machine line: the RAM layout, what VFIO maps, and the HyperTransport hole in the way", async () => {
    const file = 'qemu-amd-1tib/guests/train-old.iommu';
    const editor = await open(file);
    assert.match(editor.document.lineAt(6).text, /^ {2}machine q35 version 7\.0 memory 1T/);
    const uri = fileUri(file);
    // Providers answer once the client is up; until then the command returns no hovers.
    const hovers = await until('a hover from iommu-lens', async () => {
      const hs = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(6, 4));
      return hs.some((h) => text(h).includes('machine q35')) ? hs : undefined;
    });
    const h = hovers.find((x) => text(x).includes('machine q35'))!;
    const md = text(h);
    assert.ok(md.startsWith("**machine q35 (pc-q35-7.0)**: QEMU's guest RAM for 1T"), md);
    assert.match(md, /ram-above-4g +0x100000000\.\.0x1007fffffff +1022G/);
    assert.match(md, /- ram-below-4g: mapped at IOVA `0x0\.\.0x7fffffff` for gpu1 \(group 52\)/);
    assert.match(md, /- ram-above-4g: not mapped: gpu1 \(group 52\) is attached, but the map was refused/);
    assert.match(md, /`0x000000fd00000000 0x000000ffffffffff reserved` \(the HyperTransport hole of IOMMU amdvi0\)/);
    // The hover spans the statement it explains.
    assert.equal(h.range && span(h.range), '6:2-6:56');
  });
});
