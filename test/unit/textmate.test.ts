/**
 * The TextMate grammar (syntaxes/iommu.tmLanguage.json) and the language configuration,
 * exercised with the same engine VS Code uses (vscode-textmate on vscode-oniguruma).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vsctm from 'vscode-textmate';
import type { IGrammar, StateStack } from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';
import { ALL_KEYWORDS, DECLARATION_KEYWORDS, STATEMENT_KEYWORDS, VALUE_KEYWORDS } from '../../grammar/src/keywords';
import { ENUMS } from '../../grammar/src/parser';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Token {
  text: string;
  scopes: string[];
}

let grammarPromise: Promise<IGrammar> | undefined;

function loadGrammar(): Promise<IGrammar> {
  grammarPromise ??= (async () => {
    const wasm = readFileSync(new URL('node_modules/vscode-oniguruma/release/onig.wasm', root));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === 'source.iommu' ? vsctm.parseRawGrammar(read('syntaxes/iommu.tmLanguage.json'), 'iommu.tmLanguage.json') : null,
    });
    const grammar = await registry.loadGrammar('source.iommu');
    assert.ok(grammar, 'grammar source.iommu loads');
    return grammar;
  })();
  return grammarPromise;
}

/** Tokenizes `text` (possibly several lines); one array of tokens per line. */
async function tokenize(text: string): Promise<Token[][]> {
  const grammar = await loadGrammar();
  let state: StateStack = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The token whose text is exactly `text` (the `nth` such, from 0); fails if there is none. */
function tok(line: Token[], text: string, nth = 0): Token {
  const found = line.filter((t) => t.text === text)[nth];
  assert.ok(found, `no token '${text}' (#${nth}) in ${JSON.stringify(line.map((t) => t.text))}`);
  return found;
}

function hasScope(t: Token, prefix: string): boolean {
  return t.scopes.some((s) => s === prefix || s.startsWith(`${prefix}.`));
}

function assertScope(t: Token, prefix: string): void {
  assert.ok(hasScope(t, prefix), `'${t.text}' should have ${prefix}.*, has ${t.scopes.join(' ')}`);
}

/** `assertScope` for each `[token text, scope prefix, nth?]`, in order. */
function assertScopes(line: Token[], expected: [text: string, prefix: string, nth?: number][]): void {
  for (const [text, prefix, nth] of expected) assertScope(tok(line, text, nth), prefix);
}

async function line(text: string): Promise<Token[]> {
  const lines = await tokenize(text);
  const first = lines[0];
  assert.ok(first);
  return first;
}

/** Scopes that mark a keyword (as opposed to a plain name, `variable.other.name`). */
const KEYWORDISH = ['keyword', 'storage.type', 'storage.modifier', 'constant.language', 'support.constant'];

function assertKeywordish(t: Token, where: string): void {
  assert.ok(
    t.scopes.length > 1 && KEYWORDISH.some((p) => hasScope(t, p)),
    `keyword '${t.text}' in '${where}' has only ${t.scopes.join(' ')}`,
  );
}

test('a reserved region line', async () => {
  const l = await line('  reserved ioapic msi 0xfee00000..0xfeefffff // x');
  assertScopes(l, [
    ['reserved', 'keyword.other.statement'],
    ['ioapic', 'entity.name.type.region'],
    ['msi', 'constant.language.region-type'],
    ['0x', 'constant.numeric.hex', 0],
    ['fee00000', 'constant.numeric.hex'],
    ['0x', 'constant.numeric.hex', 1],
    ['feefffff', 'constant.numeric.hex'],
    ['..', 'keyword.operator.range'],
    [' x', 'comment.line.double-slash'],
    ['//', 'punctuation.definition.comment'],
  ]);
});

test('region with a keyword as its name, size and for', async () => {
  const l = await line('  reserved msi msi 0x08080000 size 128K for group 3, usb0');
  assertScopes(l, [
    ['msi', 'entity.name.type.region', 0],
    ['msi', 'constant.language.region-type', 1],
    ['size', 'keyword.operator.word'],
    ['128', 'constant.numeric.decimal'],
    ['K', 'keyword.other.unit'],
    ['K', 'constant.numeric.decimal'],
    ['for', 'keyword.operator.word'],
    ['group', 'keyword'],
    [',', 'punctuation.separator.comma'],
    ['usb0', 'variable.other.name'],
  ]);
});

test('names containing keywords are not split', async () => {
  const l = await line('  device gpu-msi0 {');
  assertScope(tok(l, 'device'), 'keyword.other.statement');
  const name = tok(l, 'gpu-msi0');
  assertScope(name, 'entity.name.type.device');
  assert.ok(!hasScope(name, 'constant.language'));
  assertScope(tok(l, '{'), 'punctuation.section.block.begin');

  const m = await line('  msi-window 0x08000000 size 1M');
  assertScope(tok(m, 'msi-window'), 'keyword.other.statement');
  assert.ok(!m.some((t) => t.text === 'msi'));

  const a = await line('  assign msi-dev0 as private');
  assertScopes(a, [
    ['msi-dev0', 'variable.other.name'],
    ['as', 'keyword.operator.word'],
    ['private', 'constant.language.assign-mode'],
  ]);

  const s = await line('timeline start-up { start msi; stop vm_start2 }');
  assertScopes(s, [
    ['start-up', 'entity.name.type.timeline'],
    ['start', 'keyword.control.step'],
    ['msi', 'variable.other.name'],
    ['stop', 'keyword.control.step'],
    ['vm_start2', 'variable.other.name'],
  ]);
});

test('declarations name what they declare', async () => {
  const p = await line('platform epyc-a {');
  assertScope(tok(p, 'platform'), 'storage.type.platform');
  assertScope(tok(p, 'epyc-a'), 'entity.name.type.platform');

  const g = await line('guest vm1 on epyc-a {');
  assertScopes(g, [
    ['guest', 'storage.type.guest'],
    ['vm1', 'entity.name.type.guest'],
    ['on', 'keyword.operator.word'],
    ['epyc-a', 'variable.other.name'],
  ]);

  const i = await line('  iommu amdvi0 amd-vi {');
  assertScopes(i, [
    ['iommu', 'keyword.other.statement'],
    ['amdvi0', 'entity.name.type.iommu'],
    ['amd-vi', 'constant.language.iommu-kind'],
  ]);

  const v = await line('vintf vi0 on smmu0 for cvm {');
  assertScope(tok(v, 'vintf'), 'storage.type.vintf');
  assertScope(tok(v, 'vi0'), 'entity.name.type.vintf');

  const f = await line('firmware ovmf for cvm {');
  assertScope(tok(f, 'ovmf'), 'entity.name.type.firmware');
  const d = await line('  driver VirtioNetDxe for nic0 {');
  assertScope(tok(d, 'VirtioNetDxe'), 'entity.name.type.driver');
});

test('a block comment spanning lines', async () => {
  const lines = await tokenize('ram r0 0x0 /* first\nplatform still comment\n  end */ size 4K');
  const [l0, l1, l2] = lines;
  assert.ok(l0 && l1 && l2);
  assertScope(tok(l0, '/*'), 'comment.block');
  assertScope(tok(l0, ' first'), 'comment.block');
  assert.equal(l1.length, 1);
  assertScope(tok(l1, 'platform still comment'), 'comment.block');
  assertScopes(l2, [
    ['  end ', 'comment.block'],
    ['*/', 'punctuation.definition.comment.end'],
    ['size', 'keyword.operator.word'],
  ]);
  assert.ok(!hasScope(tok(l2, 'size'), 'comment'));
  assertScope(tok(l2, '4'), 'constant.numeric.decimal');
});

test('numbers: units, underscores, 64-bit hex', async () => {
  const l = await line('  ram dram0 0x0 size 512G');
  assertScopes(l, [
    ['ram', 'keyword.other.statement'],
    ['dram0', 'entity.name.type.ram'],
    ['512', 'constant.numeric.decimal'],
    ['G', 'keyword.other.unit'],
  ]);

  const h = await line('  vtom 0xffff_ffff_ffff_ffff');
  assertScope(tok(h, '0x'), 'constant.numeric.hex');
  const digits = tok(h, 'ffff_ffff_ffff_ffff');
  assertScope(digits, 'constant.numeric.hex');
  assert.ok(!hasScope(digits, 'invalid'));

  const u = await line('  machine virt memory 16GiB max-ram-below-4g 2_000M');
  assertScopes(u, [
    ['GiB', 'keyword.other.unit'],
    ['max-ram-below-4g', 'keyword.other.option'],
    ['2_000', 'constant.numeric.decimal'],
    ['M', 'keyword.other.unit'],
  ]);

  const bad = await line('  address-width 0x12Q');
  assertScope(tok(bad, '0x12Q'), 'invalid.illegal.numeric');
});

test('BDFs, with and without a segment', async () => {
  const l = await line('  device usb0 { bdf 00:14.0; iommu amdvi0 }');
  assertScopes(l, [
    ['bdf', 'keyword.other.statement'],
    ['00', 'constant.numeric.bdf'],
    ['14', 'constant.numeric.bdf'],
    [';', 'punctuation.terminator.statement'],
    ['iommu', 'keyword.other.statement'],
    ['amdvi0', 'variable.other.name'],
    ['}', 'punctuation.section.block.end'],
  ]);

  const s = await line('    bdf 0000:41:00.0');
  for (const part of ['0000', '41']) assertScope(tok(s, part), 'constant.numeric.bdf');
  assertScope(tok(s, ':'), 'punctuation.separator.bdf');
  assertScope(tok(s, '.'), 'punctuation.separator.bdf');
  assert.ok(!s.some((t) => hasScope(t, 'constant.numeric.decimal')));
});

test('qualified names', async () => {
  const l = await line('  migrate vm1 to epyc-b.nic0');
  assertScopes(l, [
    ['migrate', 'keyword.control.step'],
    ['to', 'keyword.operator.word'],
    ['epyc-b', 'entity.name.namespace'],
    ['.', 'punctuation.accessor'],
    ['nic0', 'variable.other.member'],
  ]);
  // a platform called like a keyword is still a qualifier
  const h = await line('  assign host.gpu0');
  assertScope(tok(h, 'host'), 'entity.name.namespace');
});

test('timeline steps and config command bits', async () => {
  const lines = await tokenize(
    [
      'timeline bringup {',
      '  start cvm',
      '  config nic0 command MSE BME // memory + bus master',
      '  config epyc-b.nic0 devctl URRE; tdisp nic0 start',
      '  power nic0 D3hot',
      '  hotplug gpu1 into vm1 as shared',
      '}',
    ].join('\n'),
  );
  const [, start, config, devctl, power, hotplug] = lines;
  assert.ok(start && config && devctl && power && hotplug);
  assertScope(tok(start, 'start'), 'keyword.control.step');
  assertScopes(config, [
    ['config', 'keyword.control.step'],
    ['nic0', 'variable.other.name'],
    ['command', 'support.constant.config'],
    ['MSE', 'constant.other.register-bit'],
    ['BME', 'constant.other.register-bit'],
    [' memory + bus master', 'comment.line'],
  ]);
  assertScopes(devctl, [
    ['epyc-b', 'entity.name.namespace'],
    ['URRE', 'constant.other.register-bit'],
    ['tdisp', 'keyword.control.step'],
    ['start', 'constant.language.tdisp-message'],
  ]);
  assert.ok(!hasScope(tok(devctl, 'tdisp'), 'constant.other'));
  assertScope(tok(power, 'D3hot'), 'constant.language.power-state');
  assertScope(tok(hotplug, 'into'), 'keyword.operator.word');
  assertScope(tok(hotplug, 'shared'), 'constant.language.assign-mode');
});

test('SMMU command batches', async () => {
  const lines = await tokenize(
    ['commands vi0 {', '  batch { TLBI_NH_VA; CMD_SYNC }', '  batch {', '    CFGI_STE 0x8', '    RESUME stag 3 // retry', '  }', '}'].join(
      '\n',
    ),
  );
  const [head, one, , cfgi, resume, close] = lines;
  assert.ok(head && one && cfgi && resume && close);
  assertScope(tok(head, 'commands'), 'storage.type.commands');
  assertScope(tok(head, 'vi0'), 'entity.name');
  assertScopes(one, [
    ['batch', 'keyword.other.statement'],
    ['TLBI_NH_VA', 'support.function.smmu-command'],
    ['CMD_SYNC', 'support.function.smmu-command'],
    [';', 'punctuation.terminator.statement'],
    ['}', 'punctuation.section.block.end'],
  ]);
  assertScope(tok(cfgi, 'CFGI_STE'), 'support.function.smmu-command');
  assertScope(tok(cfgi, '0x'), 'constant.numeric.hex');
  assertScopes(resume, [
    ['RESUME', 'support.function.smmu-command'],
    ['stag', 'variable.parameter.operand'],
    [' retry', 'comment.line'],
  ]);
  assertScope(tok(close, '}'), 'meta.block.batch');
  const last = lines[6];
  assert.ok(last);
  assert.ok(!hasScope(tok(last, '}'), 'meta.block.batch'), 'the batch ends at its brace');
});

test('firmware and xen lines', async () => {
  const map = await line('    map rx-ring common-buffer size 64K pending');
  assertScopes(map, [
    ['map', 'keyword.other.statement'],
    ['rx-ring', 'entity.name.type.mapping'],
    ['common-buffer', 'constant.language.dma-operation'],
    ['pending', 'constant.language'],
  ]);
  const on = await line('    on exit-boot-services tpl callback { stop-dma; unmap rx-ring }');
  assertScopes(on, [
    ['on', 'keyword.other.statement'],
    ['exit-boot-services', 'support.constant.event'],
    ['tpl', 'keyword.operator.word'],
    ['callback', 'constant.language.tpl'],
    ['stop-dma', 'keyword.other.statement'],
    ['unmap', 'keyword.other.statement'],
    ['rx-ring', 'variable.other.name'],
  ]);
  const proto = await line('  iommu-protocol { on exit-boot-services tpl callback unmap-all deferred }');
  assertScope(tok(proto, 'unmap-all'), 'keyword');
  assertScope(tok(proto, 'deferred'), 'storage.modifier');
  const dom0 = await line('  dom0 { mode pv; iommu strict; map-reserved on }');
  assertScopes(dom0, [
    ['mode', 'keyword.other.statement'],
    ['pv', 'constant.language.xen-mode'],
    ['strict', 'constant.language.xen-iommu'],
    ['on', 'constant.language.on-off'],
  ]);
  const owner = await line('  owner guest');
  assertScope(tok(owner, 'owner'), 'keyword.other.statement');
  assertScope(tok(owner, 'guest'), 'constant.language.owner');
});

/**
 * Where each value keyword plausibly appears: `$` is replaced by the keyword.
 * Enumerations come from the parser's ENUMS; the rest are listed by hand, and a new
 * value keyword without a context here fails the test below.
 */
const ENUM_CONTEXT: Record<keyof typeof ENUMS, string> = {
  architecture: '  arch $',
  iommuKind: '  iommu smmu0 $ {',
  msiMode: '    msi $',
  regionType: '  reserved r0 $ 0xfee00000..0xfeefffff',
  assignMode: '  assign gpu0 as $',
  machineType: '  machine $ memory 16G',
  cpuVendor: '  machine q35 cpu $',
  accelKind: '  machine q35 accel $',
  confidentialKind: '  confidential $ { vtom 0x1_0000_0000 }',
  containerKind: '  container $',
  tdispMessage: '  tdisp nic0 $',
  configSimple: '  config nic0 $',
  powerState: '  power nic0 $',
  linkState: '  link nic0 $',
  convertMode: '  convert nic0 to $',
  dmaOperation: '    map buf $ size 4K',
  bufferSource: '    map buf common-buffer from $',
  tplLevel: '    on exit-boot-services tpl $ { stop-dma }',
  xenMode: '    mode $',
  dom0Iommu: '    iommu $',
  onOff: '    map-reserved $',
  xenMap: '    iommu-map $',
  quarantineMode: '    quarantine $',
  ownerKind: '  owner $',
  rdmPolicy: '    pass ilo0 rdm-policy $',
  regionOrigin: '  reserved r0 direct 0x0 size 4K for lpc0 from $',
};

const OTHER_CONTEXT: Record<string, string> = {
  sriov: '  config nic0 $ vf-enable off',
  'vf-enable': '  config nic0 sriov $ off',
  'vf-mse': '  config nic0 sriov $ off',
  numvfs: '  config nic0 sriov $ 4',
  size: '  ram r0 0x0 $ 512G',
  for: '  reserved r0 direct 0x0 size 4K $ usb0',
  to: '  migrate vm1 $ epyc-b',
  into: '  hotplug gpu1 $ vm1',
  from: '  unplug gpu1 $ vm1',
  as: '  stream nic0 $ 0x8',
  'rdm-policy': '    pass ilo0 $ relaxed',
  strategy: '    rdm $ host policy relaxed',
  policy: '    rdm strategy host $ relaxed',
  via: '  viommu v0 smmuv3 $ vi0',
  at: '    map buf common-buffer $ 0x1000',
  tpl: '    on exit-boot-services $ callback',
  event: '    on $ ready tpl notify',
  vintfs: '    cmdqv $ 2',
  'sids-per-vintf': '    cmdqv vintfs 2 $ 16',
  vcmdqs: '    cmdqv vintfs 2 sids-per-vintf 16 $ 128',
  memory: '  machine virt $ 16G',
  cpu: '  machine q35 $ amd',
  'phys-bits': '  machine q35 $ 46',
  'max-ram-below-4g': '  machine q35 $ 2G',
  'pci-hole64-size': '  machine q35 $ 64G',
  version: '  machine q35 $ 7.0',
  'cpu-model': '  machine q35 $ EPYC-Genoa',
  accel: '  machine q35 $ kvm',
  maxmem: '  machine q35 $ 256G',
  slots: '  machine q35 $ 8',
  highmem: '  machine virt $ off',
  'host-phys-bits': '  machine q35 $ on',
  'dma-window': '  assign nic0 as private $ 0x0 size 4G',
  stage2: '  viommu v0 smmuv3 via vi0 $',
  command: '  config nic0 $ MSE',
  bar: '  config nic0 $ 0 0xe0000000',
  devctl: '  config nic0 $ URRE',
  pending: '    map buf common-buffer size 4K $',
  completed: '    map buf common-buffer size 4K $',
  'exit-boot-services': '    on $ tpl callback',
  'before-exit-boot-services': '    on $ tpl callback',
  deferred: '    on exit-boot-services tpl callback unmap-all $',
};

function contextsOf(keyword: string): string[] {
  const out: string[] = [];
  for (const [e, words] of Object.entries(ENUMS) as [keyof typeof ENUMS, readonly string[]][]) {
    if (words.includes(keyword)) out.push(ENUM_CONTEXT[e]);
  }
  const other = OTHER_CONTEXT[keyword];
  if (other) out.push(other);
  return out;
}

/** The token of `keyword` that replaced the `$` of `context`. */
function keywordToken(l: Token[], context: string, keyword: string): Token {
  const at = context.indexOf('$');
  let offset = 0;
  for (const t of l) {
    if (offset === at) {
      assert.equal(t.text, keyword, `'${keyword}' is one token in '${context}'`);
      return t;
    }
    offset += t.text.length;
  }
  assert.fail(`no token starts at '$' in '${context}': ${JSON.stringify(l.map((t) => t.text))}`);
}

test('every keyword is highlighted where it is used', async () => {
  assert.ok(ALL_KEYWORDS.length > 100);
  for (const k of DECLARATION_KEYWORDS) {
    const text = `${k} thing-${k}1 {`;
    const l = await line(text);
    assertScope(tok(l, k), 'storage.type');
    assertScope(tok(l, `thing-${k}1`), 'entity.name');
  }
  for (const k of STATEMENT_KEYWORDS) {
    for (const text of [`  ${k}`, `  ${k} x1`, `  dom0 { ${k} }`, `  a { b; ${k} }`]) {
      const l = await line(text);
      assertKeywordish(tok(l, k), text);
    }
  }
  for (const k of VALUE_KEYWORDS) {
    const contexts = contextsOf(k);
    assert.ok(contexts.length > 0, `no test context for value keyword '${k}': add one to OTHER_CONTEXT`);
    for (const context of contexts) {
      const text = context.replace('$', k);
      const l = await line(text);
      const t = keywordToken(l, context, k);
      assertKeywordish(t, text);
      assert.ok(!hasScope(t, 'variable'), `'${k}' in '${text}' is not a name`);
    }
  }
  // Enumerated values in their place are constants.
  for (const [e, words] of Object.entries(ENUMS) as [keyof typeof ENUMS, readonly string[]][]) {
    if (e === 'configSimple') continue;
    for (const k of words) {
      const context = ENUM_CONTEXT[e];
      const l = await line(context.replace('$', k));
      const t = keywordToken(l, context, k);
      assert.ok(hasScope(t, 'constant.language'), `${e} value '${k}' is constant.language, has ${t.scopes.join(' ')}`);
    }
  }
  for (const k of ENUMS.configSimple) {
    const l = await line(`  config nic0 ${k}`);
    assertScope(tok(l, k), 'support.constant.config');
  }
});

test('keywords used as declared names are names', async () => {
  for (const k of ALL_KEYWORDS) {
    const l = await line(`  device ${k} {`);
    const t = tok(l, k, k === 'device' ? 1 : 0);
    assertScope(t, 'entity.name.type.device');
    assert.ok(!KEYWORDISH.some((p) => hasScope(t, p)), `device named '${k}': ${t.scopes.join(' ')}`);
  }
});

test('language configuration', () => {
  const config = JSON.parse(read('syntaxes/language-configuration.json')) as {
    comments: { lineComment: string; blockComment: [string, string] };
    brackets: [string, string][];
    autoClosingPairs: { open: string; close: string }[];
    surroundingPairs: [string, string][];
    wordPattern: string;
    folding: { markers: { start: string; end: string } };
    indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
  };
  assert.equal(config.comments.lineComment, '//');
  assert.deepEqual(config.comments.blockComment, ['/*', '*/']);
  assert.deepEqual(config.brackets, [['{', '}']]);
  assert.ok(config.autoClosingPairs.some((p) => p.open === '{' && p.close === '}'));
  assert.ok(config.autoClosingPairs.some((p) => p.open === '/*' && p.close.trim() === '*/'));
  assert.ok(config.surroundingPairs.some(([o, c]) => o === '{' && c === '}'));

  const words = (s: string): string[] => s.match(new RegExp(config.wordPattern, 'g')) ?? [];
  for (const w of ['epyc-a', '0xfee0_0000', 'gpu-msi0', 'max-ram-below-4g', 'TLBI_NH_VA', '512G', '0000:41:00.0', '00:14.0']) {
    assert.deepEqual(words(w), [w], `'${w}' is one word`);
  }
  assert.deepEqual(words('epyc-b.nic0'), ['epyc-b', 'nic0']);
  assert.deepEqual(words('0x0..0xff'), ['0x0', '0xff']);
  assert.deepEqual(words('{ bdf 00:14.0; iommu amdvi0 }'), ['bdf', '00:14.0', 'iommu', 'amdvi0']);

  const folding = config.folding.markers;
  assert.ok(new RegExp(folding.start).test('  // #region devices'));
  assert.ok(new RegExp(folding.end).test('  // #endregion'));
  assert.ok(!new RegExp(folding.start).test('  // #endregion'));

  const inc = new RegExp(config.indentationRules.increaseIndentPattern);
  const dec = new RegExp(config.indentationRules.decreaseIndentPattern);
  assert.ok(inc.test('platform epyc-a {'));
  assert.ok(inc.test('  device gpu0 {   // the GPU'));
  assert.ok(!inc.test('  device usb0 { bdf 00:14.0 }'));
  assert.ok(!inc.test('  ram r0 0x0 size 4K // {'));
  assert.ok(dec.test('  }'));
  assert.ok(!dec.test('  ram r0 0x0 size 4K'));
});
