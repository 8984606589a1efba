/** What the input generators share: the numbers past every limit, and a seeded PRNG. */

/** Numbers at and past every limit the model checks: 64 bits, units, `_` misuse, thousands of digits. */
export const EXTREME_NUMBERS: readonly string[] = [
  '0', '1', '0x0', '0xffff_ffff_ffff_ffff', '0xffffffffffffffff', '0x10000000000000000', '18446744073709551615',
  '18446744073709551616', '9223372036854775807', '9223372036854775808', '4294967295', '4294967296', '0xfee00000',
  '65535', '65536', '255', '256', '64', '65', '63', '0x_', '0x', '1__0', '1_', '_1', '0x_ff', '0xfg', '12Q', '0b101',
  '0o17', '007', '4K', '0K', '16E', '17E', '1P', '1T', '1024P', '99999999999999999999G', '1k', '4KiB', '0x1000K',
  `1${'0'.repeat(400)}`, `0x${'f'.repeat(300)}`, `${'9'.repeat(2000)}`, '0..0', '0xfff..0x0', '0..0xffffffffffffffff',
  '0 size 0', '0xffffffffffffffff size 2', '00:00.0', 'ffff:ff:1f.7', '100:00.0', '0:0.8', '0000:00:00.0.0',
];
