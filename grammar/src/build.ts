/**
 * CST → AST. Defensive throughout: after recovery a CST node may miss any child, and
 * tokens inserted by recovery have no position; such parts are left undefined.
 */
import type { CstNode } from 'chevrotain';
import type * as A from './ast';
import { makeSpan } from './ast';
import { allTokens, type Children, cstSpan, firstToken, isNode, node, nodes, num, span, token, tokens, tokenSpan, word } from './cst';
import type { AstBuild } from './contribution';
import { GRAMMAR_DOMAINS } from './domains';
import { didYouMean } from './messages';

export { cstSpan, tokenSpan } from './cst';

type Build = (n: CstNode, b: AstBuild) => A.Node | undefined;

/** The domains' builders by rule name, gathered once. */
const DOMAIN_BUILDERS: ReadonlyMap<string, Build> = new Map(
  GRAMMAR_DOMAINS.flatMap((d) => Object.entries(d.build as Readonly<Record<string, Build>>)),
);

export class AstBuilder implements AstBuild {
  readonly diagnostics: A.SyntaxDiagnostic[] = [];

  constructor(
    /** For every block rule, the keywords its statements start with. */
    private readonly blockKeywords: ReadonlyMap<string, readonly string[]>,
  ) {}

  file(n: CstNode): A.Decl[] {
    const c = n.children;
    for (const t of tokens(c, 'strayClose')) {
      this.diagnostics.push({ code: 'syntax-error', span: tokenSpan(t), message: "unmatched '}'" });
    }
    return this.items(n, 'file', (item) => this.decl(item));
  }

  // ----- generic block handling ----------------------------------------------------

  /**
   * The statements of a block (or the file) in source order, each built by `build`;
   * unknown statements are reported and kept, and two statements on one line without
   * a `;` between them are reported.
   */
  items<T>(n: CstNode, ruleName: string, build: (item: CstNode) => T | undefined): (T | A.UnknownStatement)[] {
    const c = n.children;
    const entries: { node: CstNode; span: A.Span }[] = [];
    // CST children are a plain object: for-in reads its own keys in Object.entries' order.
    for (const key in c) {
      if (key === 'leadingNewline') continue;
      for (const e of c[key] ?? []) {
        if (!isNode(e)) continue;
        const s = cstSpan(e);
        if (s) entries.push({ node: e, span: s });
      }
    }
    entries.sort((a, b) => a.span.start - b.span.start);
    // Newlines come in source order; only a block with a `;` needs a sort.
    const separators = tokens(c, 'Newline').map((t) => t.startOffset);
    const semis = tokens(c, 'Semi');
    if (semis.length) {
      for (const t of semis) separators.push(t.startOffset);
      separators.sort((a, b) => a - b);
    }
    const out: (T | A.UnknownStatement)[] = [];
    let prevEnd = -1;
    for (const { node: item, span: s } of entries) {
      if (prevEnd >= 0 && !hasBetween(separators, prevEnd, s.start)) {
        this.diagnostics.push({
          code: 'missing-separator',
          span: { start: s.start, end: s.start },
          message: "expected end of line or ';' before the next statement",
        });
      }
      prevEnd = s.end;
      if (item.name === 'unknownStatement') {
        out.push(this.unknown(item, ruleName));
      } else {
        const built = build(item);
        if (built) out.push(built);
      }
    }
    // An array grown by push keeps spare room (17 slots for one statement); a workspace's
    // ASTs stay in memory, so each list is copied to its exact length.
    return out.slice();
  }

  private unknown(n: CstNode, ruleName: string): A.UnknownStatement {
    const first = firstToken(n)!;
    const allowed = this.blockKeywords.get(ruleName) ?? [];
    const where = ruleName === 'file' ? 'at the top level' : `in ${describeBlock(ruleName)}`;
    const guess = didYouMean(first.image, allowed);
    const s = span(n);
    this.diagnostics.push({
      code: 'unknown-statement',
      span: tokenSpan(first),
      message: `'${first.image}' is not a statement ${where}; expected ${listWords(allowed)}${guess ? ` (did you mean '${guess}'?)` : ''}`,
    });
    return { kind: 'unknown', span: s, head: word(first)! };
  }

  braces(n: CstNode | undefined, opener: A.Span): A.Braces | undefined {
    if (!n) return undefined;
    const open = token(n.children, 'LBrace');
    if (!open) return undefined;
    const close = token(n.children, 'RBrace');
    if (!close) {
      this.diagnostics.push({
        code: 'unclosed-block',
        span: tokenSpan(open),
        message: "'{' is never closed: add '}' at the end of the block",
        related: [{ span: opener, message: 'the block belongs to this declaration' }],
      });
    }
    return { open: tokenSpan(open), close: close ? tokenSpan(close) : undefined };
  }

  // ----- shared pieces -------------------------------------------------------------

  name(n: CstNode | undefined): A.Word | undefined {
    return n ? word(token(n.children, 'Word')) : undefined;
  }

  ref(n: CstNode | undefined): A.Ref | undefined {
    if (!n) return undefined;
    const words = tokens(n.children, 'Word');
    if (words.length === 0) return undefined;
    if (words.length === 1) {
      if (token(n.children, 'Dot')) return undefined; // `epyc-b.` with the name missing
      return { name: word(words[0])!, span: span(n) };
    }
    return { qualifier: word(words[0]), name: word(words[1])!, span: span(n) };
  }

  range(n: CstNode | undefined): A.RangeLit | undefined {
    if (!n) return undefined;
    const start = num(token(n.children, 'start'));
    if (!start) return undefined;
    return { start, end: num(token(n.children, 'end')), size: num(token(n.children, 'sizeValue')), span: span(n) };
  }

  dmaWindow(c: Children): A.RangeLit | undefined {
    const w = node(c, 'dmaWindow');
    return w && this.range(node(w.children, 'range'));
  }

  /** The keyword value of an enumeration, stored under its label. */
  enumValue(c: Children, label: string): A.Word | undefined {
    return word(token(c, label));
  }

  iommufdUse(c: Children): A.Word | undefined {
    return this.name(node(node(c, 'iommufdUse')?.children ?? {}, 'name'));
  }

  keywordSpan(n: CstNode, keyword: string): A.Span {
    const t = token(n.children, keyword);
    return t ? tokenSpan(t) : span(n);
  }

  build(n: CstNode): A.Node | undefined {
    return DOMAIN_BUILDERS.get(n.name)?.(n, this);
  }

  // ----- declarations --------------------------------------------------------------

  private decl(n: CstNode): A.Decl | undefined {
    const c = n.children;
    const s = span(n);
    switch (n.name) {
      case 'platformDecl': {
        const body = node(c, 'platformBody');
        return {
          kind: 'platform',
          span: s,
          name: this.name(node(c, 'name')),
          braces: this.braces(body, this.keywordSpan(n, 'platform')),
          items: body ? this.items(body, 'platformBody', (i) => this.platformItem(i)) : [],
        };
      }
      case 'guestDecl': {
        const body = node(c, 'guestBody');
        return {
          kind: 'guest',
          span: s,
          name: this.name(node(c, 'name')),
          platform: this.ref(node(c, 'ref')),
          braces: this.braces(body, this.keywordSpan(n, 'guest')),
          items: body ? this.items(body, 'guestBody', (i) => this.guestItem(i)) : [],
        };
      }
      default:
        // The domains' declarations: their rules' names are theirs alone.
        return this.build(n) as A.Decl | undefined;
    }
  }

  private platformItem(n: CstNode): A.PlatformItem | undefined {
    const c = n.children;
    const s = span(n);
    switch (n.name) {
      case 'archStmt':
        return { kind: 'arch', span: s, value: this.enumValue(c, 'architecture') };
      case 'kernelStmt':
        return { kind: 'kernel', span: s, release: this.release(node(c, 'release')) };
      case 'iommuDecl': {
        const body = node(c, 'iommuBody');
        return {
          kind: 'iommu',
          span: s,
          name: this.name(node(c, 'name')),
          iommuKind: this.enumValue(c, 'iommuKind'),
          braces: this.braces(body, s),
          items: body ? this.items(body, 'iommuBody', (i) => this.iommuItem(i)) : [],
        };
      }
      case 'ramDecl':
        return this.ram(n);
      case 'ioapicStmt':
        return { kind: 'ioapic', span: s, address: num(token(c, 'Number')) };
      case 'dmaEntryLimitStmt':
        return { kind: 'dma-entry-limit', span: s, value: num(token(c, 'Number')) };
      case 'mmcfgStmt':
        return { kind: 'mmcfg', span: s, range: this.range(node(c, 'range')) };
      case 'reservedDecl':
        return {
          kind: 'reserved',
          span: s,
          name: this.name(node(c, 'name')),
          regionType: this.enumValue(c, 'regionType'),
          range: this.range(node(c, 'range')),
          targets: nodes(c, 'regionTarget')
            .map((t) => this.regionTarget(t))
            .filter((t): t is A.RegionTarget => !!t),
          origin: this.enumValue(c, 'regionOrigin'),
        };
      case 'deviceDecl': {
        const body = node(c, 'deviceBody');
        return {
          kind: 'device',
          span: s,
          name: this.name(node(c, 'name')),
          braces: this.braces(body, s),
          items: body ? this.items(body, 'deviceBody', (i) => this.deviceItem(i)) : [],
        };
      }
      default:
        return undefined;
    }
  }

  ram(n: CstNode): A.RamDecl {
    return { kind: 'ram', span: span(n), name: this.name(node(n.children, 'name')), range: this.range(node(n.children, 'range')) };
  }

  private regionTarget(n: CstNode): A.RegionTarget | undefined {
    const c = n.children;
    if (token(c, 'group')) return { kind: 'group', span: span(n), group: num(token(c, 'Number')) };
    const ref = this.ref(node(c, 'ref'));
    return ref ? { kind: 'ref', span: span(n), ref } : undefined;
  }

  private iommuItem(n: CstNode): A.IommuItem | undefined {
    const c = n.children;
    const s = span(n);
    switch (n.name) {
      case 'addressWidthStmt':
        return { kind: 'address-width', span: s, value: num(token(c, 'Number')) };
      case 'msiModeStmt':
        return { kind: 'msi-mode', span: s, value: this.enumValue(c, 'msiMode') };
      case 'pageSizesStmt':
        return { kind: 'page-sizes', span: s, sizes: tokens(c, 'Number').map((t) => num(t)!) };
      case 'htRangeIgnoreStmt':
        return { kind: 'ht-range-ignore', span: s };
      default:
        return this.build(n) as A.IommuItem | undefined;
    }
  }

  private deviceItem(n: CstNode): A.DeviceItem | undefined {
    const c = n.children;
    const s = span(n);
    switch (n.name) {
      case 'bdfStmt':
        return { kind: 'bdf', span: s, value: word(token(c, 'Bdf')) };
      case 'deviceIommuStmt':
        return {
          kind: 'device-iommu',
          span: s,
          iommu: this.ref(node(c, 'ref')),
          stream: num(token(c, 'Number')),
          streams: tokens(c, 'Number').flatMap((t) => num(t) ?? []),
        };
      case 'groupStmt':
        return { kind: 'group', span: s, value: num(token(c, 'Number')) };
      case 'quirkStmt':
        return { kind: 'quirk', span: s, quirks: tokens(c, 'Word').map((t) => word(t)!) };
      case 'vfOfStmt':
        return { kind: 'vf-of', span: s, pf: this.ref(node(c, 'ref')) };
      case 'classStmt':
        return { kind: 'class', span: s, value: word(token(c, 'Word')) };
      default:
        return this.build(n) as A.DeviceItem | undefined;
    }
  }

  private guestItem(n: CstNode): A.GuestItem | undefined {
    const c = n.children;
    const s = span(n);
    switch (n.name) {
      case 'ramDecl':
        return this.ram(n);
      case 'assignStmt':
        return {
          kind: 'assign',
          span: s,
          device: this.ref(node(c, 'ref')),
          mode: this.enumValue(c, 'assignMode'),
          dmaWindow: this.dmaWindow(c),
          iommufd: this.iommufdUse(c),
        };
      case 'machineStmt':
        return {
          kind: 'machine',
          span: s,
          machineType: this.enumValue(c, 'machineType'),
          options: nodes(c, 'machineOption')
            .map((o) => this.option(o))
            .filter((o): o is A.OptionLit => !!o),
        };
      case 'msiWindowStmt':
        return { kind: 'msi-window', span: s, range: this.range(node(c, 'range')) };
      case 'viommuStmt':
        return {
          kind: 'viommu',
          span: s,
          name: this.name(node(c, 'name')),
          iommuKind: this.enumValue(c, 'iommuKind'),
          via: this.ref(node(c, 'ref')),
          stage2: word(token(c, 'stage2')),
        };
      case 'containerStmt':
        return { kind: 'container', span: s, value: this.enumValue(c, 'containerKind') };
      case 'iommufdStmt':
        return { kind: 'iommufd', span: s, name: this.name(node(c, 'name')) };
      default:
        return this.build(n) as A.GuestItem | undefined;
    }
  }

  /** A release number: the text of its tokens, if the parser recovered all of them. */
  release(n: CstNode | undefined): A.ReleaseLit | undefined {
    const toks = n ? allTokens(n) : [];
    if (!toks.length || toks.some((t) => t.isInsertedInRecovery)) return undefined;
    return { text: toks.map((t) => t.image).join(''), span: makeSpan(tokenSpan(toks[0]!).start, tokenSpan(toks[toks.length - 1]!).end) };
  }

  /** `key value` options (machine and map): the key is the first token, the value the rest. */
  option(n: CstNode): A.OptionLit | undefined {
    const toks = allTokens(n);
    const key = word(toks[0]);
    if (!key) return undefined;
    const v = toks[1];
    const last = toks[toks.length - 1]!;
    // `version 7.0` is three tokens; its value is their text, `7.0`.
    const value = !v
      ? undefined
      : toks.length > 2
        ? {
            text: toks
              .slice(1)
              .map((t) => t.image)
              .join(''),
            span: makeSpan(tokenSpan(v).start, tokenSpan(last).end),
          }
        : v.tokenType.name === 'Number'
          ? num(v)
          : word(v);
    return { key, value, span: span(n) };
  }
}

function hasBetween(sorted: number[], lo: number, hi: number): boolean {
  // First separator at or after lo; is it before hi?
  let a = 0,
    b = sorted.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (sorted[m]! < lo) a = m + 1;
    else b = m;
  }
  return a < sorted.length && sorted[a]! < hi;
}

function describeBlock(ruleName: string): string {
  const what = ruleName
    .replace(/Body$/, '')
    .replace(/([A-Z])/g, '-$1')
    .toLowerCase();
  return `${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} block`;
}

function listWords(words: readonly string[]): string {
  if (words.length === 0) return 'nothing here';
  if (words.length === 1) return `'${words[0]}'`;
  return `one of ${words
    .slice(0, -1)
    .map((w) => `'${w}'`)
    .join(', ')} or '${words[words.length - 1]}'`;
}
