/**
 * The IORT table (Arm DEN0049, "IO Remapping Table"): SMMUv3 and ITS group nodes, the
 * root complexes and named components whose ID mappings lead to an SMMU's stream IDs, and
 * the reserved memory range (RMR) nodes. A node refers to another by its byte offset from
 * the start of the table.
 */
import type { AcpiTable } from './acpi';
import { HEADER_SIZE } from './acpi';
import type { Bytes } from './bytes';

/** Input IDs `inputBase` .. `inputBase + count - 1` map to `outputBase` onwards at the node `outputRef`. */
export interface IdMapping {
  offset: number;
  inputBase: number;
  count: number;
  outputBase: number;
  outputRef: number;
  single: boolean;
}

interface NodeBase {
  offset: number;
  type: number;
  revision: number;
  identifier: number;
  mappings: IdMapping[];
}

export interface ItsGroup extends NodeBase {
  kind: 'its';
  itsIds: number[];
}
export interface RootComplex extends NodeBase {
  kind: 'root-complex';
  segment: number;
  ats: boolean;
  addressLimit: number;
}
export interface NamedComponent extends NodeBase {
  kind: 'named-component';
  name: string;
  addressLimit: number;
}
export interface Smmuv3 extends NodeBase {
  kind: 'smmuv3';
  base: bigint;
  flags: number;
  model: number;
  proximityDomain: number;
}
export interface Smmuv2 extends NodeBase {
  kind: 'smmuv2';
  base: bigint;
  span: bigint;
  model: number;
}
export interface RmrRange {
  offset: number;
  base: bigint;
  length: bigint;
}
export interface Rmr extends NodeBase {
  kind: 'rmr';
  flags: number;
  remapPermitted: boolean;
  ranges: RmrRange[];
}
export interface OtherNode extends NodeBase {
  kind: 'other';
}

export type IortNode = ItsGroup | RootComplex | NamedComponent | Smmuv3 | Smmuv2 | Rmr | OtherNode;

export interface Iort {
  revision: number;
  nodes: IortNode[];
  notes: string[];
}

/** The node types of DEN0049 by number, for notes. */
const TYPE_NAMES = ['ITS group', 'named component', 'root complex', 'SMMUv1/v2', 'SMMUv3', 'PMCG', 'RMR'];

function mappings(b: Bytes, node: number, length: number, count: number, ref: number): IdMapping[] {
  if (count === 0) return [];
  if (ref < 16 || ref + count * 20 > length)
    b.fail(node + 12, `${count} ID mappings at offset ${ref} of the node do not fit in its ${length} bytes`);
  const out: IdMapping[] = [];
  for (let i = 0; i < count; i++) {
    const at = node + ref + i * 20;
    out.push({
      offset: at,
      inputBase: b.u32(at, 'the input base'),
      count: b.u32(at + 4, 'the number of IDs') + 1,
      outputBase: b.u32(at + 8, 'the output base'),
      outputRef: b.u32(at + 12, 'the output reference'),
      single: (b.u32(at + 16, 'the mapping flags') & 1) !== 0,
    });
  }
  return out;
}

export function decodeIort(table: AcpiTable): Iort {
  const b = table.bytes;
  const notes: string[] = [];
  const count = b.u32(HEADER_SIZE, 'the number of IORT nodes');
  const first = b.u32(HEADER_SIZE + 4, 'the offset of the node array');
  if (count > 0 && (first < HEADER_SIZE + 12 || first >= b.limit))
    b.fail(HEADER_SIZE + 4, `the node array offset ${first} is outside the table`);
  const nodes: IortNode[] = [];
  // The nodes lie one after another, each as long as its header says.
  let at = first;
  for (let i = 0; i < count; i++) {
    const { base, length } = nodeHeader(b, at, i);
    nodes.push(nodeOfType(b, base, length, notes));
    at += length;
  }
  checkReferences(b, nodes);
  return { revision: table.revision, nodes, notes };
}

/** The header of node `i` at byte `at`: its type, its length (checked against the table), revision, identifier and ID mappings. */
function nodeHeader(b: Bytes, at: number, i: number): { base: NodeBase; length: number } {
  const type = b.u8(at, 'a node type');
  const length = b.u16(at + 1, 'a node length');
  if (length < 16) b.fail(at + 1, `a node of ${length} bytes: at least 16`);
  if (at + length > b.limit) b.fail(at + 1, `node ${i} (type ${type}) of ${length} bytes runs past the end of the table (${b.limit})`);
  const base: NodeBase = {
    offset: at,
    type,
    revision: b.u8(at + 3, 'the node revision'),
    identifier: b.u32(at + 4, 'the node identifier'),
    mappings: mappings(b, at, length, b.u32(at + 8, 'the number of ID mappings'), b.u32(at + 12, 'the ID array reference')),
  };
  return { base, length };
}

/** A node with the fields of its type, which follow the 16-byte header; a type this importer does not know is noted and kept. */
function nodeOfType(b: Bytes, base: NodeBase, length: number, notes: string[]): IortNode {
  const at = base.offset;
  const d = at + 16;
  switch (base.type) {
    case 0: {
      const n = b.u32(d, 'the number of ITSs');
      if (20 + n * 4 > length) b.fail(d, `${n} ITS identifiers do not fit in the node's ${length} bytes`);
      return { ...base, kind: 'its', itsIds: Array.from({ length: n }, (_, k) => b.u32(d + 4 + k * 4, 'an ITS identifier')) };
    }
    case 1:
      return namedComponent(b, base, length);
    case 2:
      b.need(d, 20, 'a root complex');
      return {
        ...base,
        kind: 'root-complex',
        ats: (b.u32(d + 8, 'the ATS attribute') & 1) !== 0,
        segment: b.u32(d + 12, 'the PCI segment'),
        addressLimit: base.revision >= 1 ? b.u8(d + 16, 'the address size limit') : 0,
      };
    case 3:
      b.need(d, 20, 'an SMMUv1/v2');
      return {
        ...base,
        kind: 'smmuv2',
        base: b.u64(d, 'the SMMU base'),
        span: b.u64(d + 8, 'the SMMU span'),
        model: b.u32(d + 16, 'the model'),
      };
    case 4:
      b.need(d, 52, 'an SMMUv3');
      return {
        ...base,
        kind: 'smmuv3',
        base: b.u64(d, 'the SMMUv3 base'),
        flags: b.u32(d + 8, 'the flags'),
        model: b.u32(d + 24, 'the model'),
        proximityDomain: b.u32(d + 44, 'the proximity domain'),
      };
    case 6:
      return rmr(b, base, length, notes);
    default:
      // Type 5, a PMCG (performance monitor), is known but has nothing to say about translation.
      if (base.type !== 5)
        notes.push(`IORT node type ${base.type} at byte ${at} (${length} bytes) is not one this importer knows: skipped`);
      return { ...base, kind: 'other' };
  }
}

/** A named component: a device ACPI names (its object path runs from byte 13 of the data up to the ID mappings). */
function namedComponent(b: Bytes, base: NodeBase, length: number): NamedComponent {
  const at = base.offset;
  const d = at + 16;
  b.need(d, 13, 'a named component');
  const nameEnd = Math.min(at + length, base.mappings.length ? at + b.u32(at + 12, 'the ID array reference') : at + length);
  return {
    ...base,
    kind: 'named-component',
    addressLimit: b.u8(d + 12, 'the address size limit'),
    name: b.ascii(d + 13, Math.max(0, nameEnd - d - 13), 'the device object name'),
  };
}

/** A reserved memory range node: its flags and its array of ranges (base, length), which must fit in the node. */
function rmr(b: Bytes, base: NodeBase, length: number, notes: string[]): Rmr {
  const at = base.offset;
  const d = at + 16;
  const flags = b.u32(d, 'the RMR flags');
  const n = b.u32(d + 4, 'the number of memory ranges');
  const ref = b.u32(d + 8, 'the memory range array reference');
  if (n === 0) notes.push(`the RMR node at byte ${at} has no memory range`);
  if (n > 0 && (ref < 28 || ref + n * 20 > length))
    b.fail(d + 8, `${n} memory ranges at offset ${ref} of the RMR node do not fit in its ${length} bytes`);
  const ranges: RmrRange[] = [];
  for (let k = 0; k < n; k++) {
    const r = at + ref + k * 20;
    ranges.push({ offset: r, base: b.u64(r, 'the range base'), length: b.u64(r + 8, 'the range length') });
  }
  return { ...base, kind: 'rmr', flags, remapPermitted: (flags & 1) !== 0, ranges };
}

/** Fails on an ID mapping whose output reference is not the offset of a node (where its IDs go must be a node). */
function checkReferences(b: Bytes, nodes: readonly IortNode[]): void {
  const offsets = new Set(nodes.map((n) => n.offset));
  for (const n of nodes) {
    for (const m of n.mappings) {
      if (!offsets.has(m.outputRef))
        b.fail(
          m.offset + 12,
          `an ID mapping of the ${TYPE_NAMES[n.type] ?? 'node'} at byte ${n.offset} refers to byte ${m.outputRef}, where no node starts`,
        );
    }
  }
}
