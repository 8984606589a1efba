import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NumLit, RangeLit, Word } from '@iommu-lens/grammar';
import { evaluateBdf, evaluateCount, evaluateNumber, evaluateRange, formatBdf, hex, U64_MAX } from '../../server/src/model';
import { analyze, codesAt } from '../helpers';

const lit = (text: string): NumLit => ({ text, span: { start: 0, end: text.length } });
const value = (text: string) => {
  const r = evaluateNumber(lit(text));
  return r.ok ? r.value : r.problem.code;
};
const range = (start: string, op: '..' | 'size', other: string) => {
  const r: RangeLit = { start: lit(start), span: { start: 0, end: 1 }, ...(op === '..' ? { end: lit(other) } : { size: lit(other) }) };
  const e = evaluateRange(r);
  return e.ok ? [hex(e.value.start), hex(e.value.end)] : e.problem.code;
};

describe('numbers are exact 64-bit values', () => {
  test('the largest value round-trips exactly, in hex and decimal', () => {
    assert.equal(value('0xffff_ffff_ffff_ffff'), U64_MAX);
    assert.equal(value('0xffffffffffffffff'), 0xffff_ffff_ffff_ffffn);
    assert.equal(value('18446744073709551615'), U64_MAX);
    assert.equal(hex(value('0xffff_ffff_ffff_ffff') as bigint), '0xffffffffffffffff');
  });

  test('one more is an error, never rounded', () => {
    assert.equal(value('0x1_0000_0000_0000_0000'), 'number-too-large');
    assert.equal(value('18446744073709551616'), 'number-too-large');
    assert.equal(value('16P'), 0x40_0000_0000_0000n);
    assert.equal(value('16384P'), 'number-too-large');
    assert.equal(value('9'.repeat(400)), 'number-too-large');
  });

  test('leading zeros do not count: a long zero-padded value is still exact', () => {
    assert.equal(value(`0x${'0'.repeat(5000)}1f`), 0x1fn);
    assert.equal(value(`${'0'.repeat(5000)}18446744073709551615`), U64_MAX);
    assert.equal(value(`0x${'0_'.repeat(100)}ffff_ffff_ffff_ffff`), U64_MAX);
    assert.equal(value('0'), 0n);
    assert.equal(value('0x0000'), 0n);
  });

  test('thousands of digits are too large at once, and the message quotes only the ends', () => {
    for (const text of [`0x${'f'.repeat(200_000)}`, '9'.repeat(200_000), `0x1${'_0'.repeat(50_000)}`, `${'1'.repeat(100_000)}K`]) {
      const r = evaluateNumber(lit(text));
      assert.ok(!r.ok && r.problem.code === 'number-too-large', text.slice(0, 20));
      assert.ok(!r.ok && r.problem.message.length < 200 && r.problem.message.includes(`(${text.length} characters)`));
    }
    const bad = evaluateNumber(lit(`12${'Q'.repeat(100_000)}`));
    assert.ok(!bad.ok && bad.problem.code === 'invalid-number' && bad.problem.message.length < 300);
  });

  test('values past 2^53 stay exact', () => {
    assert.equal(value('0x20_0000_0000_0001'), 0x20_0000_0000_0001n);
    assert.equal(value('9007199254740993'), 9007199254740993n);
  });

  test('binary units: K M G T P and KiB ... PiB are powers of 1024', () => {
    assert.equal(value('92K'), 92n * 1024n);
    assert.equal(value('512G'), 512n << 30n);
    assert.equal(value('1KiB'), 1024n);
    assert.equal(value('3MiB'), 3n << 20n);
    assert.equal(value('2GiB'), 2n << 30n);
    assert.equal(value('1TiB'), 1n << 40n);
    assert.equal(value('1PiB'), 1n << 50n);
    assert.equal(value('0x10G'), 16n << 30n);
  });

  test('underscores only between digits; bad digits and units are invalid', () => {
    assert.equal(value('1_000'), 1000n);
    assert.equal(value('0x_1'), 'invalid-number');
    assert.equal(value('1__0'), 'invalid-number');
    assert.equal(value('10_'), 'invalid-number');
    assert.equal(value('0x'), 'invalid-number');
    assert.equal(value('12Q'), 'invalid-number');
    assert.equal(value('4g'), 'invalid-number');
    assert.equal(value('1KB'), 'invalid-number');
    assert.equal(value('0xfeg'), 'invalid-number');
    const r = evaluateNumber(lit('12ab'));
    assert.ok(!r.ok && /0x prefix/.test(r.problem.message));
  });

  test('counts take no unit and stay in range', () => {
    const c = (t: string, max: bigint) => {
      const r = evaluateCount(lit(t), 1n, max, 'x');
      return r.ok ? r.value : r.problem.code;
    };
    assert.equal(c('48', 64n), 48n);
    assert.equal(c('48K', 64n), 'unit-not-allowed');
    assert.equal(c('65', 64n), 'value-out-of-range');
    assert.equal(c('0', 64n), 'value-out-of-range');
  });
});

describe('ranges are inclusive and never wrap', () => {
  test('START..END and START size SIZE', () => {
    assert.deepEqual(range('0xfee00000', '..', '0xfeefffff'), ['0xfee00000', '0xfeefffff']);
    assert.deepEqual(range('0xbdf6e000', 'size', '92K'), ['0xbdf6e000', '0xbdf84fff']);
    assert.deepEqual(range('0x0', '..', '0xffff_ffff_ffff_ffff'), ['0x0', '0xffffffffffffffff']);
    assert.deepEqual(range('5', '..', '5'), ['0x5', '0x5']);
  });

  test('a range may end exactly at 2^64-1 but not past it', () => {
    assert.deepEqual(range('0xffff_ffff_ffff_f000', 'size', '4K'), ['0xfffffffffffff000', '0xffffffffffffffff']);
    assert.equal(range('0xffff_ffff_ffff_f000', 'size', '8K'), 'range-wraps');
    assert.equal(range('0xffff_ffff_ffff_ffff', 'size', '2'), 'range-wraps');
  });

  test('size 0 and END < START are errors', () => {
    assert.equal(range('0x1000', 'size', '0'), 'zero-size');
    assert.equal(range('0x2000', '..', '0x1fff'), 'range-reversed');
    assert.equal(range('0x1000', '..', '0x1_0000_0000_0000_0000'), 'number-too-large');
  });
});

describe('BDFs', () => {
  const bdf = (text: string) => {
    const w: Word = { text, span: { start: 0, end: text.length } };
    const r = evaluateBdf(w);
    return r.ok ? formatBdf(r.value) : r.problem.code;
  };
  test('with and without segment', () => {
    assert.equal(bdf('0000:41:00.0'), '0000:41:00.0');
    assert.equal(bdf('00:14.0'), '0000:00:14.0');
    assert.equal(bdf('ffff:ff:1f.7'), 'ffff:ff:1f.7');
  });
  test('fields beyond the PCI limits', () => {
    assert.equal(bdf('00:20.0'), 'invalid-bdf');
    assert.equal(bdf('00:1f.8'), 'invalid-bdf');
    assert.equal(bdf('1:100:00.0'), 'invalid-bdf');
    assert.equal(bdf('10000:00:00.0'), 'invalid-bdf');
    const long = evaluateBdf({ text: `${'0'.repeat(100_000)}:01.0`, span: { start: 0, end: 100_005 } });
    assert.ok(!long.ok && long.problem.code === 'invalid-bdf' && long.problem.message.length < 200);
  });
});

describe('number findings in a description point at the literal', () => {
  test('each code on its own line', () => {
    const files = {
      'p.iommu': `platform p {
  iommu i vt-d { address-width 48K }
  iommu j vt-d { address-width 65 }
  ram big 0x0 size 0x1_0000_0000_0000_0000
  ram zero 0x1000 size 0
  ram back 0x2000..0x1000
  ram wrap 0xffff_ffff_ffff_f000 size 8K
  ram top 0xffff_ffff_ffff_f000 size 4K
  ram bad 0x1000 size 4g
  device d { bdf 00:20.0; group 4K }
}`,
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), [
      'unit-not-allowed@48K',
      'value-out-of-range@65',
      'number-too-large@0x1_0000_0000_0000_0000',
      'zero-size@0',
      'range-reversed@0x2000..0x1000',
      'range-wraps@0xffff_ffff_ffff_f000 size 8K',
      'invalid-number@4g',
      'invalid-bdf@00:20.0',
      'unit-not-allowed@4K',
    ]);
    const top = a.model.platforms.get('p')!.ram.find((r) => r.sym.name === 'top')!;
    assert.equal(top.range?.end, U64_MAX);
  });
});
