/// <reference types="mocha" />
/** The address map command opens a webview beside the editor, titled after the guest at the cursor, and follows the editor. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { open, until } from './util';

function mapTabs(): vscode.Tab[] {
  // VS Code prefixes the extension's view type (`mainThreadWebview-iommuLens.addressMap`).
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('iommuLens.addressMap'));
}

suite('address map', () => {
  suiteTeardown(async () => {
    for (const t of mapTabs()) await vscode.window.tabGroups.close(t);
  });

  test('iommuLens.showAddressMap opens the map of the guest at the cursor, and it follows the active editor', async () => {
    const editor = await open('qemu-amd-1tib/guests/train-old.iommu');
    editor.selection = new vscode.Selection(6, 4, 6, 4);
    await vscode.commands.executeCommand('iommuLens.showAddressMap');
    const tab = await until('the address map webview tab', () => mapTabs()[0]);
    assert.equal(mapTabs().length, 1);
    // Opened beside the editor, without taking focus from it.
    assert.notEqual(tab.group.viewColumn, editor.viewColumn);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), editor.document.uri.toString());
    // The title is set once the server has answered with the map.
    await until('the map of train-old', () => mapTabs().find((t) => t.label === 'Address Map: guest train-old on epyc-genoa'));
    await open('qemu-amd-1tib/guests/train-new.iommu');
    await until('the map to follow to train-new', () => mapTabs().find((t) => t.label === 'Address Map: guest train-new on epyc-genoa'));
    assert.equal(mapTabs().length, 1);
  });
});
