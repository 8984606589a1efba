/// <reference types="mocha" />
/** The extension activates in a workspace of .iommu files and the files get its language. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, open, until } from './util';

suite('activation', () => {
  test('opening an .iommu file gives it the iommu language and the extension is active', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded as a development extension`);
    const editor = await open('rack-pool/guests/web-2.iommu');
    assert.equal(editor.document.languageId, 'iommu');
    // Its activation events (onLanguage:iommu, workspaceContains:**/*.iommu) start it; nothing here calls activate().
    await until('the extension to activate', () => (ext.isActive ? true : undefined));
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['iommuLens.showAddressMap', 'iommuLens.restartServer', 'iommuLens.showOutput']) {
      assert.ok(commands.includes(c), `command ${c} is not registered`);
    }
  });
});
