/** Every finding code is documented, and every documented code exists. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SyntaxCode } from '@iommu-lens/grammar';
import { CODES, isCode } from '../../server/src/domains';
import { CORE_CODES, codeTable } from '../../server/src/model/codes';
import type { CodeInfo } from '../../server/src/model/findings';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
const documented = [...doc.matchAll(/^### ([a-z0-9-]+)$/gm)].map((m) => m[1]!);

test('every code has an entry in docs/diagnostics.md, with its severity', () => {
  for (const [code, info] of Object.entries(CODES)) {
    assert.ok(documented.includes(code), `docs/diagnostics.md has no '### ${code}'`);
    const entry = doc
      .slice(doc.indexOf(`### ${code}\n`))
      .split('\n')
      .slice(1, 3)
      .join(' ');
    assert.match(entry, new RegExp(`\\*\\*${info.severity}\\.\\*\\*`), `${code}: entry should start with **${info.severity}.**`);
  }
});

test('every documented code exists', () => {
  for (const code of documented) assert.ok(isCode(code), `docs/diagnostics.md documents unknown code '${code}'`);
});

test("the grammar's syntax codes are registered codes", () => {
  const syntax: SyntaxCode[] = [
    'syntax-error',
    'unknown-statement',
    'missing-separator',
    'unclosed-block',
    'invalid-character',
    'unterminated-comment',
  ];
  for (const c of syntax) assert.ok(isCode(c), c);
});

test('codes are kebab-case and stable-looking', () => {
  for (const code of Object.keys(CODES)) assert.match(code, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
});

test('the registry refuses a code two tables register (two domains claiming one code)', () => {
  const a = { 'same-code': { severity: 'error', summary: 'one' } } as const;
  const b = { 'same-code': { severity: 'warning', summary: 'two' } } as const;
  assert.throws(() => codeTable(a, b), /finding code 'same-code' is registered twice/);
  assert.deepEqual(Object.keys(codeTable(CORE_CODES, a)).slice(-1), ['same-code']);
});

/** An entry of docs/diagnostics.md: from its heading to the next heading. */
function entry(code: string): string {
  const start = doc.indexOf(`### ${code}\n`);
  const rest = doc.slice(start + 4 + code.length);
  const next = rest.search(/^#{2,3} /m);
  return next < 0 ? rest : rest.slice(0, next);
}

test("every code's sources are listed in its docs/diagnostics.md entry, with their releases", () => {
  for (const [code, info] of Object.entries(CODES) as [string, CodeInfo][]) {
    for (const s of info.sources ?? []) {
      const line = `- ${s.where}${s.versions ? ` (${s.versions})` : ''}`;
      assert.ok(entry(code).includes(`Sources:\n`) && entry(code).includes(line), `${code}: its entry should list '${line}'`);
    }
  }
});

test('the codes of the Linux, VFIO, iommufd, QEMU, timeline, pool, TDISP, SEV and firmware engines name their sources', () => {
  // Codes that follow the tool's own rules (a budget, a timeline's bookkeeping, the language's own limits) have none.
  const own = new Set([
    'guest-not-running',
    'guest-already-running',
    'pool-checks-truncated',
    'fw-misplaced-action',
    'fw-orders-truncated',
  ]);
  const section = (title: string) => {
    const start = doc.indexOf(`\n## ${title}\n`);
    const end = doc.indexOf('\n## ', start + 4);
    return [...doc.slice(start, end).matchAll(/^### ([a-z0-9-]+)$/gm)].map((m) => m[1]!);
  };
  const codes = [
    'VFIO containers and guest RAM',
    'Timelines',
    'Pools',
    'TDISP',
    'SEV-SNP and SEV-TIO',
    'Firmware DMA at ExitBootServices',
  ].flatMap(section);
  assert.ok(codes.length > 20, `found ${codes.length} codes`);
  for (const code of codes) {
    const info: CodeInfo | undefined = isCode(code) ? CODES[code] : undefined;
    if (!own.has(code)) assert.ok(info?.sources?.length, `${code} names no source`);
  }
});

test('the codes of the Xen and CMDQV engines name their sources', () => {
  const section = (title: string) => {
    const start = doc.indexOf(`\n## ${title}\n`);
    const end = doc.indexOf('\n## ', start + 4);
    return [...doc.slice(start, end < 0 ? undefined : end).matchAll(/^### ([a-z0-9-]+)$/gm)].map((m) => m[1]!);
  };
  const codes = ['Xen IOMMU maps', 'SMMUv3 CMDQV'].flatMap(section);
  assert.ok(codes.length > 25, `found ${codes.length} codes`);
  for (const code of codes) {
    const info: CodeInfo | undefined = isCode(code) ? CODES[code] : undefined;
    assert.ok(info?.sources?.length, `${code} names no source`);
  }
});
