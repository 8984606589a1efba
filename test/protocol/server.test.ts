/**
 * The bundled language server (dist/server.cjs) driven over stdio, as any LSP editor
 * would: initialize with a workspace folder, open and edit documents, and check the
 * diagnostics it publishes, for open files and for files only on disk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  DidChangeTextDocumentNotification,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  FileChangeType,
  HoverRequest,
  InlayHintRequest,
  CodeActionRequest,
  DefinitionRequest,
  DocumentHighlightKind,
  DocumentHighlightRequest,
  DocumentSymbolRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  SymbolKind,
  WorkspaceSymbolRequest,
  FoldingRangeRequest,
  SelectionRangeRequest,
  SemanticTokensRequest,
  CompletionRequest,
  CompletionItemKind,
  DocumentFormattingRequest,
  DocumentRangeFormattingRequest,
  type TextEdit,
  type InitializeResult,
  type SelectionRange,
  type CodeAction,
  type DocumentSymbol,
  type Location,
  type SymbolInformation,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Client, SERVER } from './client';
import { SERVER_NODE_FLAGS } from '../../server/src/lsp/protocol';

describe('language server over stdio', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-ws-'));
  const uriOf = (rel: string) => pathToFileURL(join(dir, rel)).href;
  let client: Client;
  let init: InitializeResult;

  before(async () => {
    mkdirSync(join(dir, 'hosts'));
    writeFileSync(
      join(dir, 'hosts', 'a.iommu'),
      'platform epyc-a {\n  iommu amdvi0 amd-vi { address-width 48 }\n  device gpu0 { bdf 0000:41:00.0; iommu amdvi0 }\n}\n',
    );
    // A file nobody opens, with an error: the server must still report it.
    writeFileSync(join(dir, 'hosts', 'b.iommu'), 'platform epyc-b {\n  arch sparc\n}\n');
    writeFileSync(join(dir, 'vm1.iommu'), 'guest vm1 on epyc-a {\n  assign gpu0\n}\n');
    client = new Client();
    init = await client.initialize(dir);
    assert.equal(init.serverInfo?.name, 'iommu-lens');
  });

  after(async () => {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('diagnostics for files on disk that are not open', async () => {
    await client.until(() => client.codes(uriOf('hosts/b.iommu')).length > 0, 'diagnostics of b.iommu');
    const [d] = client.latest.get(uriOf('hosts/b.iommu'))!;
    assert.equal(d!.code, 'syntax-error');
    assert.equal(d!.source, 'iommu-lens');
    assert.deepEqual(d!.range, { start: { line: 1, character: 7 }, end: { line: 1, character: 12 } });
    assert.deepEqual(client.codes(uriOf('vm1.iommu')), []);
  });

  test('an open document is re-analysed on every edit, across files', async () => {
    const uri = uriOf('vm1.iommu');
    await client.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'iommu', version: 1, text: 'guest vm1 on epyc-a {\n  assign gpu0\n}\n' },
    });
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start: { line: 1, character: 12 }, end: { line: 1, character: 13 } }, text: '9' }],
    });
    await client.until(() => client.codes(uri).includes('unknown-name'), 'unknown-name after the edit');
    const d = client.latest.get(uri)![0]!;
    assert.deepEqual(d.range, { start: { line: 1, character: 9 }, end: { line: 1, character: 13 } });
    assert.match(String(d.message), /no device 'gpu9' on platform epyc-a \(did you mean 'gpu0'\?\)/);
    await client.conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 3 },
      contentChanges: [{ range: { start: { line: 1, character: 12 }, end: { line: 1, character: 13 } }, text: '0' }],
    });
    await client.until(() => client.codes(uri).length === 0, 'the fix to clear the diagnostic');
  });

  test('an unsaved rename in one file shows up in another file that uses it', async () => {
    const host = uriOf('hosts/a.iommu');
    await client.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: host, languageId: 'iommu', version: 1, text: 'platform epyc-a2 {\n  device gpu0 { bdf 0000:41:00.0 }\n}\n' },
    });
    await client.until(() => client.codes(uriOf('vm1.iommu')).includes('unknown-name'), 'the guest to lose its platform');
    await client.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: host } });
    await client.until(() => client.codes(uriOf('vm1.iommu')).length === 0, 'closing to restore the file on disk');
  });

  test('files created and deleted on disk (watched-file events)', async () => {
    writeFileSync(join(dir, 'new.iommu'), 'guest vm2 on nowhere { }\n');
    await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf('new.iommu'), type: FileChangeType.Created }],
    });
    await client.until(() => client.codes(uriOf('new.iommu')).includes('unknown-name'), 'the new file');
    rmSync(join(dir, 'new.iommu'));
    await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf('new.iommu'), type: FileChangeType.Deleted }],
    });
    await client.until(() => client.latest.get(uriOf('new.iommu'))?.length === 0, 'the deleted file to be cleared');
  });

  test('related locations point into other files', async () => {
    writeFileSync(join(dir, 'dup.iommu'), 'platform epyc-a { }\n');
    await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf('dup.iommu'), type: FileChangeType.Created }],
    });
    await client.until(
      () => client.codes(uriOf('dup.iommu')).includes('duplicate-name') || client.codes(uriOf('hosts/a.iommu')).includes('duplicate-name'),
      'the duplicate',
    );
    const all = [...client.latest.values()].flat().find((d) => d.code === 'duplicate-name')!;
    assert.equal(all.relatedInformation?.length, 1);
    assert.ok(all.relatedInformation![0]!.location.uri.endsWith('.iommu'));
  });

  test("hover shows a device's group as sysfs prints it; a quick fix comes back as a workspace edit", async () => {
    const uri = uriOf('arm.iommu');
    const text =
      'platform altra {\n  arch arm64\n  iommu smmu0 smmuv3\n  device nic0 { iommu smmu0 stream 1; group 7 }\n}\n' +
      'guest g on altra {\n  ram low 0x0 size 512M\n  msi-window 0xfee00000 size 1M\n  assign nic0\n}\n';
    await client.open(uri, text);
    const h = await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 3, character: 10 } });
    const value = (h?.contents as { value: string }).value;
    assert.match(value, /`\/sys\/kernel\/iommu_groups\/7\/reserved_regions`:\n```text\n0x0000000008000000 0x00000000080fffff msi\n```/);
    assert.deepEqual(h?.range, { start: { line: 3, character: 9 }, end: { line: 3, character: 13 } });
    await client.diagnostic(uri, 'ram-over-doorbell');
    const fix = await client.firstFix(uri, await client.diagnostic(uri, 'msi-window-ignored'));
    assert.equal(fix.title, 'Remove the msi-window line');
    assert.deepEqual(fix.edit?.changes?.[uri], [
      { range: { start: { line: 6, character: 23 }, end: { line: 7, character: 31 } }, newText: '' },
    ]);
  });

  test("inlay hints show a machine's computed RAM; hover on a timeline step shows the state after it", async () => {
    const uri = uriOf('pc.iommu');
    const text = 'guest pc1 on epyc-a {\n  machine q35 memory 16G\n}\ntimeline boot-pc1 {\n  start pc1\n}\n';
    await client.open(uri, text);
    const hints = await client.conn.sendRequest(InlayHintRequest.type, {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 6, character: 0 } },
    });
    assert.deepEqual(
      hints?.map((x) => [x.position, x.label]),
      [[{ line: 1, character: 24 }, ' → ram-below-4g 0x0..0x7fffffff, ram-above-4g 0x100000000..0x47fffffff']],
    );
    assert.match(await client.hoverText(uri, 4, 3), /guest \*\*pc1\*\* on epyc-a: running/);
  });

  test("seed 001's BME write: the coalescing fix as a workspace edit, and the TDI states on hover", async () => {
    const uri = uriOf('tio.iommu');
    const text = [
      'platform turin {',
      '  iommu amdvi0 amd-vi { address-width 48 }',
      '  device nic0 { bdf 0000:c2:00.0; iommu amdvi0; group 41; tdisp; quirk bme-zero-write-clears }',
      '}',
      'guest cvm on turin {',
      '  machine q35 memory 4G cpu amd',
      '  confidential sev-snp',
      '  container iommufd',
      '  assign nic0 as bind-capable',
      '}',
      'timeline boot {',
      '  start cvm',
      '  tdisp nic0 lock',
      '  tdisp nic0 start',
      '  config nic0 command MSE',
      '  config nic0 command MSE BME',
      '}',
      '',
    ].join('\n');
    await client.open(uri, text);
    const d = await client.diagnostic(uri, 'tdisp-bme-quirk');
    assert.deepEqual(d.range, { start: { line: 14, character: 2 }, end: { line: 14, character: 25 } });
    assert.equal(d.relatedInformation?.[0]?.location.range.start.line, 12);
    const fix = await client.firstFix(uri, d);
    assert.equal(fix.title, 'Enable with one Command write: MSE BME (the later write that sets BME goes)');
    assert.deepEqual(fix.edit?.changes?.[uri], [
      { range: { start: { line: 14, character: 21 }, end: { line: 14, character: 25 } }, newText: ' MSE BME' },
      { range: { start: { line: 14, character: 25 }, end: { line: 15, character: 29 } }, newText: '' },
    ]);
    assert.match(await client.hoverText(uri, 14, 4), /nic0 {2}ERROR {12}Command 0x0002 \(MSE\)/);
  });

  test('seed 000: the order behind an ExitBootServices warning on hover; the AllocateBuffer fix as a workspace edit', async () => {
    const uri = uriOf('ovmf.iommu');
    const text = [
      'platform milan {',
      '  iommu amdvi0 amd-vi { address-width 48 }',
      '  device vnet0 { bdf 0000:c1:00.2; iommu amdvi0; group 62 }',
      '}',
      'guest sev-web on milan {',
      '  machine q35 memory 8G cpu amd',
      '  confidential sev-snp',
      '  assign vnet0',
      '}',
      'firmware ovmf for sev-web {',
      '  driver VirtioNetDxe for vnet0 {',
      '    map rx-ring common-buffer size 12K from allocate-buffer pending',
      '    map tx-hdr common-buffer64 at 0x1_0000_0000 size 1536 pending',
      '    on exit-boot-services tpl callback stop-dma',
      '  }',
      '  iommu-protocol { on exit-boot-services tpl callback unmap-all }',
      '}',
      '',
    ].join('\n');
    await client.open(uri, text);
    const warn = await client.diagnostic(uri, 'fw-teardown-before-stop');
    assert.equal(warn.severity, 2);
    assert.deepEqual(warn.range, { start: { line: 15, character: 54 }, end: { line: 15, character: 63 } });
    assert.match(
      await client.hoverText(uri, 15, 56),
      /one order in which it happens\*\*\n\n1\. the IOMMU protocol's TPL_CALLBACK ExitBootServices handler \(line 16\)\n2\. VirtioNetDxe's TPL_CALLBACK ExitBootServices handler \(line 14\)/,
    );
    // OVMF x86 root bridges clear 64-bit support, so CommonBuffer64 above 4 GiB fails too (RootBridgeIoMap).
    const fix = await client.firstFix(uri, await client.diagnostic(uri, 'fw-32bit-above-4g'));
    assert.equal(fix.title, 'Allocate it with AllocateBuffer() (below 4 GiB)');
    assert.deepEqual(fix.edit?.changes?.[uri], [
      { range: { start: { line: 12, character: 30 }, end: { line: 12, character: 47 } }, newText: '' },
      { range: { start: { line: 12, character: 65 }, end: { line: 12, character: 65 } }, newText: ' from allocate-buffer' },
    ]);
  });

  test("seeds 003 and 004: a Xen domain's map on hover, the stale-BFN finding on a balloon step, and the CMD_SYNC fix", async () => {
    const uri = uriOf('xen-cmdqv.iommu');
    const text = [
      'platform dl388 {',
      '  arch x86_64',
      '  iommu dmar0 vt-d { address-width 46 }',
      '  ram dram 0x1_0000_0000 size 16G',
      '  device nic0 { bdf 0000:03:00.0; iommu dmar0; group 30 }',
      '}',
      'xen xh on dl388 {',
      '  dom0 { mode pv; iommu relaxed }',
      '}',
      'timeline t {',
      '  balloon xh.dom0 0x2_0000_0000 size 1G',
      '}',
      'platform grace {',
      '  arch arm64',
      '  iommu smmu0 smmuv3 { cmdqv vintfs 2 sids-per-vintf 4 }',
      '  device vf0 { bdf 0008:01:00.2; iommu smmu0 stream 0x102; group 21 }',
      '}',
      'guest gx on grace {',
      '  machine virt memory 4G',
      '  container iommufd',
      '  viommu vsmmu0 smmuv3 via vix',
      '  assign vf0',
      '}',
      'vintf vix on smmu0 for gx { owner guest; vmid 3; stream vf0 as 0x8 }',
      'commands vix {',
      '  batch { ATC_INV sid 0x8 ssid 0 addr 0x1000 }',
      '}',
      '',
    ].join('\n');
    await client.open(uri, text);
    assert.match(await client.hoverText(uri, 7, 3), /\*\*host map\*\* \(BFN == MFN for all of the host's RAM\), programmed once at boot/);
    const stale = await client.diagnostic(uri, 'xen-stale-iommu-mapping');
    assert.equal(stale.range.start.line, 10);
    const fix = await client.firstFix(uri, await client.diagnostic(uri, 'cmdqv-batch-without-sync'));
    assert.deepEqual(fix.edit?.changes?.[uri], [
      { range: { start: { line: 25, character: 44 }, end: { line: 25, character: 44 } }, newText: '; CMD_SYNC' },
    ]);
    assert.match(await client.hoverText(uri, 25, 12), /vSID 0x8 matches pair 1 of 4: SID_REPLACE 0x102 \(vf0\)/);
  });

  test('navigation: definition, references, highlights, rename (and its refusal), symbols, create-missing action', async () => {
    const host = uriOf('nav-host.iommu');
    const vm = uriOf('nav-vm.iommu');
    await client.open(
      host,
      'platform nav-host {\n  arch x86_64\n  iommu nav-dmar vt-d\n  device nav-nic { bdf 00:03.0; iommu nav-dmar; group 40 }\n}\n',
    );
    await client.open(
      vm,
      'guest nav-vm on nav-host {\n  machine q35 memory 2G\n  assign nav-nic\n  assign nav-hba\n}\ntimeline nav-t {\n  start nav-vm\n  stop nav-vm\n}\n',
    );
    const unknown = await client.diagnostic(vm, 'unknown-name');
    const use = { textDocument: { uri: vm }, position: { line: 2, character: 10 } };
    const def = (await client.conn.sendRequest(DefinitionRequest.type, use)) as Location;
    assert.deepEqual(def, { uri: host, range: { start: { line: 3, character: 9 }, end: { line: 3, character: 16 } } });
    const refs = await client.conn.sendRequest(ReferencesRequest.type, { ...use, context: { includeDeclaration: true } });
    assert.deepEqual(
      refs?.map((l) => [l.uri, l.range.start.line]),
      [
        [host, 3],
        [vm, 2],
      ],
    );
    const hl = await client.conn.sendRequest(DocumentHighlightRequest.type, {
      textDocument: { uri: vm },
      position: { line: 6, character: 9 },
    });
    assert.deepEqual(
      hl?.map((h) => [h.range.start.line, h.kind]),
      [
        [0, DocumentHighlightKind.Write],
        [6, DocumentHighlightKind.Read],
        [7, DocumentHighlightKind.Read],
      ],
    );
    const prep = await client.conn.sendRequest(PrepareRenameRequest.type, use);
    assert.deepEqual(prep, { range: { start: { line: 2, character: 9 }, end: { line: 2, character: 16 } }, placeholder: 'nav-nic' });
    const edit = await client.conn.sendRequest(RenameRequest.type, { ...use, newName: 'nav-eth' });
    assert.deepEqual(Object.keys(edit?.changes ?? {}).sort(), [host, vm].sort());
    assert.deepEqual(
      edit!.changes![vm]!.map((e) => [e.range.start.line, e.newText]),
      [[2, 'nav-eth']],
    );
    await assert.rejects(
      client.conn.sendRequest(RenameRequest.type, { ...use, newName: 'nav-dmar' }),
      /'nav-dmar' is already an IOMMU of nav-host/,
    );
    const outline = (await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: host } })) as DocumentSymbol[];
    assert.deepEqual(
      outline.map((x) => [x.name, x.kind, x.children?.map((c) => `${c.name}: ${c.detail}`)]),
      [['nav-host', SymbolKind.Namespace, ['nav-dmar: vt-d', 'nav-nic: 0000:00:03.0, behind nav-dmar, group 40']]],
    );
    const found = (await client.conn.sendRequest(WorkspaceSymbolRequest.type, { query: 'navnic' })) as SymbolInformation[];
    assert.deepEqual(
      found.map((x) => [x.name, x.containerName, x.location.uri]),
      [['nav-nic', 'nav-host', host]],
    );
    const actions = (await client.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: vm },
      range: unknown.range,
      context: { diagnostics: [unknown] },
    })) as CodeAction[];
    const create = actions.find((x) => x.title === "Create device 'nav-hba' on platform nav-host")!;
    assert.equal(create.diagnostics?.[0]?.code, 'unknown-name');
    assert.deepEqual(create.edit?.changes?.[host], [
      {
        range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } },
        newText: '  device nav-hba {\n    iommu nav-dmar\n  }\n',
      },
    ]);
  });

  test('folding, selection ranges and semantic tokens (decoded with the legend the server declared)', async () => {
    const uri = uriOf('syn-host.iommu');
    await client.open(
      uri,
      '// syn host\n// two lines\nplatform syn-host {\n  iommu syn-smmu smmuv3\n  reserved msi msi 0x8000000..0x80fffff\n}\n',
    );
    await client.until(() => client.latest.has(uri), 'syn-host analysed');
    const folds = await client.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
    assert.deepEqual(
      folds?.map((f) => [f.startLine, f.endLine, f.kind]),
      [
        [0, 1, 'comment'],
        [2, 4, undefined],
      ],
    );
    const [sel] = (await client.conn.sendRequest(SelectionRangeRequest.type, {
      textDocument: { uri },
      positions: [{ line: 4, character: 24 }],
    }))!;
    const chain: string[] = [];
    for (let r: SelectionRange | undefined = sel; r; r = r.parent)
      chain.push(`${r.range.start.line}:${r.range.start.character}-${r.range.end.line}:${r.range.end.character}`);
    assert.deepEqual(chain.slice(0, 3), ['4:19-4:28', '4:19-4:39', '4:2-4:39']);
    const data = (await client.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data;
    const types = init.capabilities.semanticTokensProvider!.legend.tokenTypes;
    const decoded: string[] = [];
    for (let i = 0, line = 0, char = 0; i < data.length; i += 5) {
      line += data[i]!;
      char = data[i]! === 0 ? char + data[i + 1]! : data[i + 1]!;
      decoded.push(`${line}:${char}+${data[i + 2]} ${types[data[i + 3]!]}`);
    }
    assert.deepEqual(decoded.slice(0, 4), ['0:0+11 comment', '1:0+12 comment', '2:0+8 keyword', '2:9+8 namespace']);
    assert.ok(decoded.includes('4:11+3 property'), 'the region named msi is a name');
    assert.ok(decoded.includes('4:15+3 enumMember'), 'its type msi is an enumerated value');
  });

  test("completion: the devices of the guest's platform after assign, with documentation and a text edit", async () => {
    const uri = uriOf('cmp.iommu');
    await client.open(
      uri,
      'platform cmp-a {\n  iommu cmp-i vt-d\n  device cmp-nic { bdf 00:02.0; iommu cmp-i }\n  reserved cmp-r direct 0x1000..0x1fff\n}\nplatform cmp-b {\n  device cmp-other { bdf 00:03.0 }\n}\nguest cmp-g on cmp-a {\n  assign cmp\n}\n',
    );
    const list = await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 9, character: 12 } });
    const items = Array.isArray(list) ? list : list!.items;
    assert.deepEqual(
      items.map((i) => [i.label, i.kind]),
      [['cmp-nic', CompletionItemKind.Variable]],
    );
    assert.deepEqual((items[0]!.textEdit as TextEdit).range, { start: { line: 9, character: 9 }, end: { line: 9, character: 12 } });
    const types = await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 3, character: 17 } });
    const direct = (Array.isArray(types) ? types : types!.items).find((i) => i.label === 'direct')!;
    assert.match((direct.documentation as { value: string }).value, /identity-mapped/);
  });

  test('formatting: the document and a range, as text edits; a broken document gets none', async () => {
    const uri = uriOf('fmt.iommu');
    const text =
      'platform   fmt-p{\n arch x86_64\n      reserved a msi 0xfee00000 .. 0xfeefffff\n  reserved longer reserved 0x1000..0x1fff\n}\n';
    await client.open(uri, text);
    const doc = TextDocument.create(uri, 'iommu', 1, text);
    const whole = await client.conn.sendRequest(DocumentFormattingRequest.type, {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
    assert.equal(
      TextDocument.applyEdits(doc, whole!),
      'platform fmt-p {\n  arch x86_64\n  reserved a      msi      0xfee00000..0xfeefffff\n  reserved longer reserved 0x1000..0x1fff\n}\n',
    );
    const range = await client.conn.sendRequest(DocumentRangeFormattingRequest.type, {
      textDocument: { uri },
      range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } },
      options: { tabSize: 4, insertSpaces: true },
    });
    assert.equal(TextDocument.applyEdits(doc, range!), text.replace('\n arch', '\n    arch'));
    const broken = uriOf('fmt-broken.iommu');
    await client.open(broken, 'platform   fmt-q {\n  arch\n');
    assert.deepEqual(
      await client.conn.sendRequest(DocumentFormattingRequest.type, {
        textDocument: { uri: broken },
        options: { tabSize: 2, insertSpaces: true },
      }),
      [],
    );
  });
});

describe('iommu-lens-server command line', () => {
  test('without a transport it explains and exits 2; --help and --version exit 0', () => {
    const none = spawnSync(process.execPath, [SERVER], { encoding: 'utf8' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /choose a transport: --stdio/);
    assert.equal(spawnSync(process.execPath, [SERVER, '--help'], { encoding: 'utf8' }).status, 0);
    assert.match(spawnSync(process.execPath, [SERVER, '--version'], { encoding: 'utf8' }).stdout, /iommu-lens-server \d/);
  });

  test('--node-flags prints the flags the VS Code client starts it with, and node takes them', () => {
    const printed = spawnSync(process.execPath, [SERVER, '--node-flags'], { encoding: 'utf8' });
    assert.equal(printed.status, 0);
    assert.equal(printed.stdout, `${SERVER_NODE_FLAGS.join(' ')}\n`);
    assert.ok(SERVER_NODE_FLAGS.length > 0);
    // Started with them, the server runs (a flag node refused would exit 9 before it starts).
    const withThem = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, SERVER, '--version'], { encoding: 'utf8' });
    assert.equal(withThem.status, 0, withThem.stderr);
    assert.match(withThem.stdout, /iommu-lens-server \d/);
  });
});
