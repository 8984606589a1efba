/**
 * The `iommuLens/addressMap` request against the bundled server over stdio: the map at
 * the cursor or by name, its SVG, and the line of every clickable bar; after an edit the
 * answer follows the new text.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DidChangeTextDocumentNotification } from 'vscode-languageserver-protocol/node';
import { ADDRESS_MAP_REQUEST, type AddressMapResult } from '../../server/src/lsp/protocol';
import { Client } from './client';

// armsrv-1 of seed 002 and a 4G virt guest over its PCI window (vm-analytics).
const HOST = [
  'platform am-armsrv {',
  '  arch arm64',
  '  iommu smmu0 smmuv3 { address-width 48 }',
  '  reserved swmsi     sw-msi   0x8000000..0x80fffff',
  '  reserved pci-win32 reserved 0xe0000000..0xf7feffff',
  '  device am-vf2 { bdf 0000:01:00.4; iommu smmu0 stream 0x104; group 18 }',
  '}',
  '',
].join('\n');
const GUEST = [
  '// the seed 002 shape',
  'guest am-vm on am-armsrv {',
  '  machine virt memory 4G',
  '  container type1',
  '  assign am-vf2',
  '}',
  '',
].join('\n');

describe('iommuLens/addressMap over stdio', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-map-ws-'));
  const hostUri = pathToFileURL(join(dir, 'hosts', 'am-armsrv.iommu')).href;
  const guestUri = pathToFileURL(join(dir, 'am-vm.iommu')).href;
  let client: Client;
  const request = (params: object) => client.conn.sendRequest<AddressMapResult | null>(ADDRESS_MAP_REQUEST, params);

  before(async () => {
    mkdirSync(join(dir, 'hosts'));
    writeFileSync(join(dir, 'hosts', 'am-armsrv.iommu'), HOST);
    writeFileSync(join(dir, 'am-vm.iommu'), GUEST);
    client = new Client();
    await client.initialize(dir);
    await client.diagnostic(guestUri, 'ram-over-reserved');
  });

  after(async () => {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the guest at the cursor: its SVG and the line behind every clickable bar', async () => {
    const r = (await request({ uri: guestUri, position: { line: 4, character: 4 } }))!;
    assert.equal(r.title, 'guest am-vm on am-armsrv');
    assert.match(r.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const lineOf = (id: number) => {
      const t = r.targets.find((x) => x.id === id)!;
      return `${t.uri === hostUri ? 'host' : t.uri === guestUri ? 'guest' : t.uri}:${t.range.start.line}`;
    };
    // machine (RAM and the conflict), swmsi, pci-win32: in drawing order, each line once.
    assert.deepEqual(
      r.targets.map((t) => lineOf(t.id)),
      ['guest:2', 'host:3', 'host:4'],
    );
    // Each bar's data-target is the line it comes from.
    const barsAt = (kind: string) =>
      [...r.svg.matchAll(new RegExp(`<g class="bar" data-kind="${kind}" data-target="(\\d+)">`, 'g'))].map((m) => lineOf(Number(m[1])));
    assert.deepEqual(barsAt('conflict'), ['guest:2']);
    assert.deepEqual(barsAt('reserved'), ['host:4', 'host:4']);
    assert.deepEqual(barsAt('ram'), ['guest:2']);
    const pciWin32 = r.targets.find((t) => t.uri === hostUri && t.range.start.line === 4)!;
    assert.deepEqual(pciWin32.range, { start: { line: 4, character: 2 }, end: { line: 4, character: 52 } });
  });

  test('by name; unknown names and places with no guest or platform give null', async () => {
    const p = (await request({ uri: guestUri, platform: 'am-armsrv' }))!;
    assert.equal(p.title, 'platform am-armsrv');
    assert.match(p.svg, />IOVA: group 18 \(am-vf2\)</);
    assert.equal((await request({ uri: hostUri, position: { line: 1, character: 3 } }))!.title, 'platform am-armsrv');
    assert.equal(await request({ uri: guestUri, guest: 'am-nope' }), null);
    assert.equal(await request({ uri: pathToFileURL(join(dir, 'none.iommu')).href, position: { line: 0, character: 0 } }), null);
  });

  test('an edit changes the answer: 2G of RAM stays below the PCI window, so no conflict is left', async () => {
    await client.open(guestUri, GUEST);
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: guestUri, version: 2 },
      contentChanges: [{ range: { start: { line: 2, character: 22 }, end: { line: 2, character: 24 } }, text: '2G' }],
    });
    const r = (await request({ uri: guestUri, position: { line: 2, character: 4 } }))!;
    assert.match(r.svg, /<title>ram 0x40000000\.\.0xbfffffff \(2G\)\nmach-virt\.ram<\/title>/);
    assert.doesNotMatch(r.svg, /data-kind="conflict"/);
  });
});
