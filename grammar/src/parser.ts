/**
 * The .iommu parser (chevrotain CstParser): the core's rules (the file, platforms, guests)
 * with every domain's (`domains/`, in the registry's order) over the rules they share
 * (`sharedRules.ts`). One instance is built once and reused.
 *
 * Shape of every block: `{`, then statements separated by newlines or `;`, then `}`.
 * A line that starts with a word the block does not know is kept as an
 * `unknownStatement` (reported by the AST builder) so one bad line never derails the
 * rest of the file; errors inside a known statement are recovered by chevrotain's
 * re-sync to the end of the line.
 */
import type { IOrAlt, IToken } from 'chevrotain';
import { type DomainEnums, GRAMMAR_DOMAINS } from './domains';
import { allTokens, Bdf, Comma, Dot, kw, Newline, NumberLit, RBrace, Semi, Word } from './lexer';
import { type Assembly, type ParserClass, type Place, SharedRules } from './sharedRules';

/** The core's enumerations: the keyword alternatives of an enumerated value, e.g. the region types. */
const CORE_ENUMS = {
  architecture: ['x86_64', 'arm64'],
  iommuKind: ['vt-d', 'amd-vi', 'smmuv3', 'virtio-iommu'],
  msiMode: ['remapped', 'bypass'],
  regionType: ['direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi'],
  assignMode: ['shared', 'private', 'bind-capable'],
  machineType: ['q35', 'i440fx', 'virt'],
  cpuVendor: ['amd', 'intel'],
  accelKind: ['kvm', 'tcg'],
  containerKind: ['type1', 'iommufd'],
  onOff: ['on', 'off'],
  regionOrigin: ['rmrr', 'ivmd', 'linux-quirk', 'iort-rmr'],
} as const satisfies Record<string, readonly string[]>;

/** Every enumeration: the core's and the domains'. */
export const ENUMS = Object.assign({}, CORE_ENUMS, ...GRAMMAR_DOMAINS.map((d) => d.enums)) as typeof CORE_ENUMS & DomainEnums;

export type EnumName = keyof typeof ENUMS;

/** What the shared rules take from the core and the registry. */
const ASSEMBLY: Assembly = {
  tokens: allTokens,
  enums: ENUMS,
  places: (place) => GRAMMAR_DOMAINS.flatMap((d) => (d.places as Partial<Record<Place, readonly string[]>>)[place] ?? []),
};

/** The core's rules: the file, platforms and guests. */
class CoreParser extends SharedRules {
  // ----- file ----------------------------------------------------------------------

  public file = this.RULE('file', () => {
    this.MANY(() =>
      this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: this.alts('file', () => [
          { ALT: () => this.CONSUME(Newline) },
          { ALT: () => this.CONSUME(Semi) },
          { ALT: () => this.SUBRULE(this.platformDecl) },
          { ALT: () => this.SUBRULE(this.guestDecl) },
          ...this.placed('declarations').map((rule) => ({ ALT: () => this.SUBRULE(rule) })),
          { ALT: () => this.SUBRULE(this.unknownStatement), IGNORE_AMBIGUITIES: true },
          { ALT: () => this.CONSUME(RBrace, { LABEL: 'strayClose' }) },
        ]),
      }),
    );
  });

  // ----- platform ------------------------------------------------------------------

  public platformDecl = this.RULE('platformDecl', () => {
    this.CONSUME(kw('platform'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.platformBody);
  });

  public archStmt = this.RULE('archStmt', () => {
    this.CONSUME(kw('arch'));
    this.oneOf('architecture');
  });

  /** `kernel 6.6`: the host's Linux release; rules that changed between releases follow it. */
  public kernelStmt = this.RULE('kernelStmt', () => {
    this.CONSUME(kw('kernel'));
    this.SUBRULE(this.release);
  });

  public iommuDecl = this.RULE('iommuDecl', () => {
    this.CONSUME(kw('iommu'));
    this.SUBRULE(this.name);
    this.oneOf('iommuKind');
    this.OPTION(() => this.SUBRULE(this.iommuBody));
  });

  public addressWidthStmt = this.RULE('addressWidthStmt', () => {
    this.CONSUME(kw('address-width'));
    this.CONSUME(NumberLit);
  });
  public msiModeStmt = this.RULE('msiModeStmt', () => {
    this.CONSUME(kw('msi'));
    this.oneOf('msiMode');
  });
  public pageSizesStmt = this.RULE('pageSizesStmt', () => {
    this.CONSUME(kw('page-sizes'));
    this.AT_LEAST_ONE(() => this.CONSUME(NumberLit));
  });
  /** `ht-range-ignore`: the AMD IOMMU reports HTRangeIgnore (EFR2 bit 11); Linux 6.16+ then leaves the HT hole out. */
  public htRangeIgnoreStmt = this.RULE('htRangeIgnoreStmt', () => {
    this.CONSUME(kw('ht-range-ignore'));
  });

  public iommuBody = this.block(
    'iommuBody',
    // CMDQV's `cmdqv` comes here, the place messages and docs list it in.
    () => [this.addressWidthStmt, this.msiModeStmt, this.pageSizesStmt, ...this.placed('iommuBody'), this.htRangeIgnoreStmt],
    true,
  );

  public reservedDecl = this.RULE('reservedDecl', () => {
    this.CONSUME(kw('reserved'));
    this.SUBRULE(this.name);
    this.oneOf('regionType', 1);
    this.SUBRULE(this.range);
    this.OPTION(() => {
      this.CONSUME(kw('for'));
      this.SUBRULE(this.regionTarget);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.regionTarget);
      });
    });
    // Where the firmware or the kernel got it: Xen knows only ACPI RMRRs and IVMDs.
    this.OPTION2(() => {
      this.CONSUME(kw('from'));
      this.oneOf('regionOrigin', 2);
    });
  });

  /** `for` a device or IOMMU by name, or `group N`. */
  public regionTarget = this.RULE('regionTarget', () =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw('group'));
          this.CONSUME(NumberLit);
        },
      },
      { ALT: () => this.SUBRULE(this.ref) },
    ]),
  );

  public deviceDecl = this.RULE('deviceDecl', () => {
    this.CONSUME(kw('device'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.deviceBody);
  });

  public bdfStmt = this.RULE('bdfStmt', () => {
    this.CONSUME(kw('bdf'));
    this.CONSUME(Bdf);
  });
  public deviceIommuStmt = this.RULE('deviceIommuStmt', () => {
    this.CONSUME(kw('iommu'));
    this.SUBRULE(this.ref);
    // A device may have several stream IDs (a PCIe alias, a multi-function master).
    this.OPTION(() => {
      this.CONSUME(kw('stream'));
      this.CONSUME(NumberLit);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.CONSUME2(NumberLit);
      });
    });
  });
  public groupStmt = this.RULE('groupStmt', () => {
    this.CONSUME(kw('group'));
    this.CONSUME(NumberLit);
  });
  public quirkStmt = this.RULE('quirkStmt', () => {
    this.CONSUME(kw('quirk'));
    this.AT_LEAST_ONE(() => this.CONSUME(Word));
  });
  public vfOfStmt = this.RULE('vfOfStmt', () => {
    this.CONSUME(kw('vf-of'));
    this.SUBRULE(this.ref);
  });
  public classStmt = this.RULE('classStmt', () => {
    this.CONSUME(kw('class'));
    this.CONSUME(Word);
  });

  public deviceBody = this.block('deviceBody', () => [
    this.bdfStmt,
    this.deviceIommuStmt,
    this.groupStmt,
    // TDISP's `tdisp` capability comes here, the place messages and docs list it in.
    ...this.placed('deviceBody'),
    this.quirkStmt,
    this.vfOfStmt,
    this.classStmt,
  ]);

  public ioapicStmt = this.RULE('ioapicStmt', () => {
    this.CONSUME(kw('ioapic'));
    this.CONSUME(NumberLit);
  });
  public mmcfgStmt = this.RULE('mmcfgStmt', () => {
    this.CONSUME(kw('mmcfg'));
    this.SUBRULE(this.range);
  });
  /** `dma-entry-limit N`: vfio_iommu_type1's module parameter (default 65535). */
  public dmaEntryLimitStmt = this.RULE('dmaEntryLimitStmt', () => {
    this.CONSUME(kw('dma-entry-limit'));
    this.CONSUME(NumberLit);
  });

  public platformBody = this.block('platformBody', () => [
    this.archStmt,
    this.kernelStmt,
    this.iommuDecl,
    this.ramDecl,
    this.reservedDecl,
    this.deviceDecl,
    this.ioapicStmt,
    this.mmcfgStmt,
    this.dmaEntryLimitStmt,
  ]);

  // ----- guest ---------------------------------------------------------------------

  public guestDecl = this.RULE('guestDecl', () => {
    this.CONSUME(kw('guest'));
    this.SUBRULE(this.name);
    this.CONSUME(kw('on'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.guestBody);
  });

  public assignStmt = this.RULE('assignStmt', () => {
    this.CONSUME(kw('assign'));
    this.SUBRULE(this.ref);
    this.OPTION(() => {
      this.CONSUME(kw('as'));
      this.oneOf('assignMode');
    });
    this.OPTION2(() => this.SUBRULE(this.dmaWindow));
    this.OPTION3(() => this.SUBRULE(this.iommufdUse));
  });

  /** `iommufd NAME` in a guest: an iommufd instance, QEMU's `-object iommufd,id=NAME` (RULES §6.6). */
  public iommufdStmt = this.RULE('iommufdStmt', () => {
    this.CONSUME(kw('iommufd'));
    this.SUBRULE(this.name);
  });

  public machineStmt = this.RULE('machineStmt', () => {
    this.CONSUME(kw('machine'));
    this.oneOf('machineType');
    this.MANY(() => this.SUBRULE(this.machineOption));
  });

  /** `KEYWORD NUMBER`, the number consumed as occurrence `idx` of a number in the rule (chevrotain tells them apart so). */
  private keywordNumber(keyword: string, idx: number): IOrAlt<unknown> {
    return {
      ALT: () => {
        this.CONSUME(kw(keyword));
        this.consume(idx, NumberLit);
      },
    };
  }

  /** `KEYWORD VALUE`, the value one of enumeration `e`, its choice occurrence `idx` in the rule. */
  private keywordEnum(keyword: string, e: string, idx: number): IOrAlt<unknown> {
    return {
      ALT: () => {
        this.CONSUME(kw(keyword));
        this.oneOf(e, idx);
      },
    };
  }

  public machineOption = this.RULE('machineOption', () =>
    this.OR([
      this.keywordNumber('memory', 0),
      this.keywordEnum('cpu', 'cpuVendor', 1),
      this.keywordNumber('phys-bits', 2),
      this.keywordNumber('max-ram-below-4g', 3),
      this.keywordNumber('pci-hole64-size', 4),
      // `-cpu MODEL`: a named model, or `host` / `max`; with `accel` it decides the default phys-bits.
      {
        ALT: () => {
          this.CONSUME(kw('cpu-model'));
          this.CONSUME(Word);
        },
      },
      this.keywordEnum('accel', 'accelKind', 2),
      // `-m SIZE,slots=N,maxmem=SIZE`: the device-memory region above RAM.
      this.keywordNumber('maxmem', 7),
      this.keywordNumber('slots', 8),
      // `-cpu ...,host-phys-bits=on` (libvirt <maxphysaddr mode='passthrough'/>): the host's phys-bits, whatever the model.
      this.keywordEnum('host-phys-bits', 'onOff', 4),
      // virt `highmem=off`: 32-bit guest-physical addresses.
      this.keywordEnum('highmem', 'onOff', 3),
      // QEMU's versioned machine types: `version 7.0` is `pc-q35-7.0`.
      {
        ALT: () => {
          this.CONSUME(kw('version'));
          this.CONSUME5(NumberLit);
          this.CONSUME(Dot);
          this.CONSUME6(NumberLit);
        },
      },
    ]),
  );

  public msiWindowStmt = this.RULE('msiWindowStmt', () => {
    this.CONSUME(kw('msi-window'));
    this.SUBRULE(this.range);
  });

  public viommuStmt = this.RULE('viommuStmt', () => {
    this.CONSUME(kw('viommu'));
    this.SUBRULE(this.name);
    this.oneOf('iommuKind', 1);
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(kw('via'));
            this.SUBRULE(this.ref);
          },
        },
        { ALT: () => this.CONSUME(kw('stage2')) },
      ]),
    );
  });

  public containerStmt = this.RULE('containerStmt', () => {
    this.CONSUME(kw('container'));
    this.oneOf('containerKind');
  });

  public guestBody = this.block('guestBody', () => [
    this.ramDecl,
    this.assignStmt,
    this.machineStmt,
    this.msiWindowStmt,
    // SEV's `confidential` comes here, the place messages and docs list it in.
    ...this.placed('guestBody'),
    this.viommuStmt,
    this.containerStmt,
    this.iommufdStmt,
  ]);
}

/**
 * The whole parser: the core's rules, then every domain's in the registry's order. Each
 * domain's rules extend the class they are given, so the result is still a `CoreParser`.
 */
const WithDomains = GRAMMAR_DOMAINS.reduce<ParserClass>((parser, d) => d.rules(parser), CoreParser) as typeof CoreParser;

export class IommuParser extends WithDomains {
  constructor() {
    super(ASSEMBLY);
    this.performSelfAnalysis();
  }
}

/** The one parser instance (building one runs chevrotain's grammar analysis). */
let instance: IommuParser | undefined;
export function parserInstance(): IommuParser {
  return (instance ??= new IommuParser());
}

export type { IToken };
