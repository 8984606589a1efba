/**
 * docs/language.md stays true to the parser: its examples parse, its generated grammar and
 * railroad diagrams are current, and it covers every rule and keyword.
 * Run: node --import tsx --test test/unit/docs.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALL_KEYWORDS, parse } from '../../grammar/src/index';
import { documentedRules, generate, INTERNAL_RULES, LANGUAGE_MD, parserRules, RAILROAD_DIR, ROOT, staleOutputs } from '../../scripts/docs';

const markdown = readFileSync(join(ROOT, LANGUAGE_MD), 'utf8');

interface Fence {
  lang: string;
  line: number;
  text: string;
}

/** Every fenced code block of a markdown text, with the 1-based line of its opening fence. */
function fences(md: string): Fence[] {
  const out: Fence[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, line: start + 1, text: `${body.join('\n')}\n` });
  }
  return out;
}

/** The markdown between two markers (exclusive). */
function between(md: string, begin: string, end: string): string {
  const b = md.indexOf(begin);
  const e = md.indexOf(end);
  assert.ok(b >= 0 && e > b, `${LANGUAGE_MD} has ${begin} ... ${end}`);
  return md.slice(b + begin.length, e);
}

const grammarSection = between(markdown, '<!-- grammar:begin -->', '<!-- grammar:end -->');
const railroadSection = between(markdown, '<!-- railroad:begin -->', '<!-- railroad:end -->');

describe('docs/language.md examples', () => {
  const examples = fences(markdown).filter((f) => f.lang === 'iommu');

  it('has examples', () => {
    assert.ok(examples.length >= 12, `expected an example per construct, found ${examples.length}`);
  });

  for (const ex of examples) {
    it(`the iommu block at line ${ex.line} parses without diagnostics`, () => {
      const result = parse(ex.text);
      const found = result.diagnostics.map((d) => {
        const before = ex.text.slice(0, d.span.start);
        const line = ex.line + 1 + (before.match(/\n/g)?.length ?? 0);
        return `${LANGUAGE_MD}:${line}: ${d.code}: ${d.message}`;
      });
      assert.deepEqual(found, [], `block at ${LANGUAGE_MD}:${ex.line}`);
    });
  }

  it('every fence is closed and has a language', () => {
    const opening = markdown.split('\n').filter((l) => l.startsWith('```')).length;
    assert.equal(opening % 2, 0, 'odd number of ``` lines');
    for (const f of fences(markdown)) assert.notEqual(f.lang, '', `fence at line ${f.line} names its language`);
  });
});

describe('generated grammar and railroad diagrams', () => {
  it('are up to date (run `npm run docs` if not)', () => {
    assert.deepEqual(staleOutputs(), []);
  });

  it('generation is deterministic', () => {
    const a = generate(markdown);
    const b = generate(markdown);
    assert.equal(a.markdown, b.markdown);
    assert.deepEqual([...a.svgs], [...b.svgs]);
  });

  it('`npm run docs -- --check` agrees', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/docs.ts'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('staleOutputs names every stale, missing and left-over file', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'iommu-docs-'));
    try {
      mkdirSync(join(tmp, 'docs'));
      cpSync(join(ROOT, RAILROAD_DIR), join(tmp, RAILROAD_DIR), { recursive: true });
      writeFileSync(join(tmp, LANGUAGE_MD), markdown.replace(/^platformDecl = .*$/m, 'platformDecl = NOTHING ;'));
      writeFileSync(join(tmp, RAILROAD_DIR, 'range.svg'), '<svg/>');
      rmSync(join(tmp, RAILROAD_DIR, 'ref.svg'));
      writeFileSync(join(tmp, RAILROAD_DIR, 'gone.svg'), '<svg/>');
      assert.deepEqual(staleOutputs(tmp).sort(), [
        LANGUAGE_MD,
        `${RAILROAD_DIR}/gone.svg (no such rule any more)`,
        `${RAILROAD_DIR}/range.svg`,
        `${RAILROAD_DIR}/ref.svg`,
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  const rules = parserRules().filter((r) => !INTERNAL_RULES.has(r.name));

  it('documents every parser rule except the error-recovery ones', () => {
    assert.ok(rules.length > 50);
    assert.deepEqual(
      documentedRules()
        .map((r) => r.name)
        .sort(),
      rules.map((r) => r.name).sort(),
    );
  });

  for (const rule of rules) {
    it(`rule ${rule.name} is in the grammar and has a diagram`, () => {
      assert.match(grammarSection, new RegExp(`^${rule.name} = `, 'm'));
      assert.ok(railroadSection.includes(`![${rule.name}](railroad/${rule.name}.svg)`), `${rule.name} is listed`);
      const svg = join(ROOT, RAILROAD_DIR, `${rule.name}.svg`);
      assert.ok(existsSync(svg), `${RAILROAD_DIR}/${rule.name}.svg exists`);
      const text = readFileSync(svg, 'utf8');
      assert.ok(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'standalone SVG');
      assert.match(text, /<style>[\s\S]*svg\.railroad-diagram path[\s\S]*<\/style>/, 'carries its CSS');
    });
  }

  it('leaves the error-recovery rules out of the main grammar and the diagrams', () => {
    const main = fences(grammarSection)[0]!.text;
    for (const name of INTERNAL_RULES) {
      assert.doesNotMatch(main, new RegExp(`\\b${name}\\b`));
      assert.ok(!existsSync(join(ROOT, RAILROAD_DIR, `${name}.svg`)), `no diagram for ${name}`);
    }
  });
});

describe('keywords', () => {
  // The hand-written part: the generated grammar lists every keyword anyway.
  const prose = markdown.replace(grammarSection, '').replace(railroadSection, '');
  for (const kw of ALL_KEYWORDS) {
    it(`'${kw}' is explained in ${LANGUAGE_MD}`, () => {
      const escaped = kw.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(prose, new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`));
    });
  }
});
