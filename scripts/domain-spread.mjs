// Code measures the structure is judged by (issue 23):
// - per domain, the source files outside the domain's own folders that name it (in code, comments
//   left out, and anywhere, comments included);
// - the longest functions;
// - the source lines over 140 characters.
// Source files: every .ts under grammar/src, server/src and client/src. A domain's own folders
// are server/src/domains/<d>/ and grammar/src/domains/<d>.ts (or a folder of that name).
//   node scripts/domain-spread.mjs [--files DOMAIN] [--top N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const REPO = join(import.meta.dirname, '..');
const ROOTS = ['grammar/src', 'server/src', 'client/src'];

/**
 * How code names each domain: its words, its types' prefixes and its keywords. Not counted:
 * SEVERITY (not SEV), EDK II's memory pools (`allocate-pool`, the shared and reserved pools:
 * the firmware domain's), and the platform's firmware, not the firmware domain's EDK II:
 * `/sys/firmware` and "firmware tables" (ACPI), "VT-d firmware", "AMD-Vi firmware", the PSP's
 * `fw_error`, and the kernel's message "Firmware has requested this device have a 1:1 IOMMU
 * mapping" (VFIO's).
 */
const DOMAINS = {
  tdisp: /tdisp|TDISP|Tdisp|\b[Tt]dis?(?![a-z])|TDI(?![A-Z])/,
  sev: /\b[Ss]ev(?![a-z])|SEV(?!ERITY)|\b[Ss]np(?![a-z])|SNP|vtom|vTOM|Vtom|launch-update|LaunchUpdate/,
  firmware:
    /(?<!sys\/|VT-d |AMD-Vi )firmware(?! tables)|Firmware(?! has requested)|\bfw(?![a-z_])|\bFw[A-Z]|ExitBootServices|exitBootServices|uefi|Uefi|UEFI|PciIo|pciIo/,
  xen: /xen|Xen|XEN|dom0|Dom0|balloon/,
  cmdqv: /cmdqv|CMDQV|Cmdqv|vintf|Vintf|VINTF|SmmuCmd|smmuCommand|SmmuBatch/,
  vfio: /vfio|Vfio|VFIO/,
  timelines: /timeline|Timeline/,
  pools: /(?<!allocate-|shared |reserved )\bpools?\b|\bPool(?![a-z])|Pools\b|poolSafe/,
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The code of a file without its comments (printed back by the TypeScript printer). */
const printer = ts.createPrinter({ removeComments: true });
const codeOnly = (rel, text) => printer.printFile(ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, false));

const ownFolder = (rel, d) =>
  rel.startsWith(`server/src/domains/${d}/`) || rel === `grammar/src/domains/${d}.ts` || rel.startsWith(`grammar/src/domains/${d}/`);

/** The functions of a file (declarations, methods, arrows, function expressions) with their line counts. */
function functionsOf(rel, text) {
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessor(node)
    ) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      let name = node.name?.getText(sf);
      if (!name && ts.isVariableDeclaration(node.parent)) name = node.parent.name.getText(sf);
      if (!name && ts.isPropertyAssignment(node.parent)) name = node.parent.name.getText(sf);
      out.push({ where: `${rel}:${start + 1}`, name: name ?? '(anonymous)', lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const args = process.argv.slice(2);
const listFor = args.includes('--files') ? args[args.indexOf('--files') + 1] : undefined;
const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 5;

const all = ROOTS.flatMap((r) => files(join(REPO, r)))
  .map((p) => relative(REPO, p).split('\\').join('/'))
  .sort();
const texts = new Map(all.map((rel) => [rel, readFileSync(join(REPO, rel), 'utf8')]));
const codes = new Map([...texts].map(([rel, text]) => [rel, codeOnly(rel, text)]));

console.log(`${all.length} source files, ${[...texts.values()].reduce((s, t) => s + t.split('\n').length, 0)} lines\n`);
console.log(
  '| domain | files naming it outside its folders (code) | (code or comments) | of them in the core (outside every domain folder) |',
);
console.log('|---|---:|---:|---:|');
for (const [d, re] of Object.entries(DOMAINS)) {
  const outside = all.filter((rel) => !ownFolder(rel, d));
  const inCode = outside.filter((rel) => re.test(codes.get(rel)));
  const anywhere = outside.filter((rel) => re.test(texts.get(rel)));
  const core = inCode.filter((rel) => !rel.startsWith('server/src/domains/') && !rel.startsWith('grammar/src/domains/'));
  console.log(`| ${d} | ${inCode.length} | ${anywhere.length} | ${core.length} |`);
  if (listFor === d) for (const rel of inCode) console.log(`|   ${rel} | | |`);
}

const fns = all.flatMap((rel) => functionsOf(rel, texts.get(rel))).sort((a, b) => b.lines - a.lines);
console.log(`\n${fns.length} functions, ${fns.filter((f) => f.lines > 50).length} over 50 lines; the longest:`);
for (const f of fns.slice(0, top)) console.log(`  ${f.lines} lines  ${f.name}  ${f.where}`);

const long = [...texts]
  .flatMap(([rel, text]) => text.split('\n').map((l, i) => ({ where: `${rel}:${i + 1}`, n: l.length })))
  .filter((l) => l.n > 140)
  .sort((a, b) => b.n - a.n);
console.log(`\n${long.length} source lines over 140 characters${long.length ? `, the longest ${long[0].n} (${long[0].where})` : ''}`);
