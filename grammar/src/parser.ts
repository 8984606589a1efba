/**
 * The .iommu parser (chevrotain CstParser). One instance is built once and reused.
 *
 * Shape of every block: `{`, then statements separated by newlines or `;`, then `}`.
 * A line that starts with a word the block does not know is kept as an
 * `unknownStatement` (reported by the AST builder) so one bad line never derails the
 * rest of the file; errors inside a known statement are recovered by chevrotain's
 * re-sync to the end of the line.
 */
import { CstParser, EMPTY_ALT, type CstNode, type IOrAlt, type IToken, type ParserMethod, type TokenType } from 'chevrotain';
import { allTokens, Bdf, Comma, Dot, DotDot, kw, LBrace, Newline, NumberLit, RBrace, Semi, Word } from './lexer';
import { errorMessageProvider } from './messages';

/** The keyword alternatives of an enumerated value, e.g. the region types. */
export const ENUMS = {
  architecture: ['x86_64', 'arm64'],
  iommuKind: ['vt-d', 'amd-vi', 'smmuv3', 'virtio-iommu'],
  msiMode: ['remapped', 'bypass'],
  regionType: ['direct', 'direct-relaxable', 'reserved', 'msi', 'sw-msi'],
  assignMode: ['shared', 'private', 'bind-capable'],
  machineType: ['q35', 'i440fx', 'virt'],
  cpuVendor: ['amd', 'intel'],
  accelKind: ['kvm', 'tcg'],
  confidentialKind: ['sev-snp', 'tdx'],
  containerKind: ['type1', 'iommufd'],
  tdispMessage: ['lock', 'start', 'stop', 'report', 'bind-p2p', 'unbind-p2p', 'set-mmio-attr'],
  configSimple: ['flr', 'msix', 'bist', 'rom', 'resizable-bar', 'ari', 'pasid', 'page-request', 'multicast', 'intx'],
  powerState: ['D0', 'D1', 'D2', 'D3hot', 'D3cold'],
  linkState: ['up', 'down'],
  convertMode: ['private', 'shared'],
  dmaOperation: ['bus-master-read', 'bus-master-write', 'common-buffer', 'bus-master-read64', 'bus-master-write64', 'common-buffer64'],
  bufferSource: ['allocate-buffer', 'allocate-pool', 'allocate-pages'],
  tplLevel: ['notify', 'callback'],
  xenMode: ['pv', 'pvh', 'hvm'],
  dom0Iommu: ['strict', 'passthrough', 'relaxed'],
  onOff: ['on', 'off'],
  xenMap: ['host-identity', 'maintained', 'pv-iommu', 'virtual-vtd'],
  quarantineMode: ['off', 'basic', 'scratch-page'],
  ownerKind: ['guest', 'host'],
  rdmPolicy: ['strict', 'relaxed'],
  regionOrigin: ['rmrr', 'ivmd', 'linux-quirk', 'iort-rmr'],
} as const satisfies Record<string, readonly string[]>;

export type EnumName = keyof typeof ENUMS;

/** Tokens a stray line may contain (everything but separators and braces). */
const strayTokens: TokenType[] = [Comma, DotDot, Dot, Bdf, NumberLit, Word];

export class IommuParser extends CstParser {
  constructor() {
    super(allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: 'onlyOffset',
      maxLookahead: 3,
      errorMessageProvider,
    });
    this.performSelfAnalysis();
  }

  // ----- shared pieces -------------------------------------------------------------

  /** A name being declared. */
  public name = this.RULE('name', () => {
    this.CONSUME(Word);
  });

  /** A reference: `nic0`, or qualified by its platform, `epyc-b.nic0`. */
  public ref = this.RULE('ref', () => {
    this.CONSUME(Word);
    this.OPTION(() => {
      this.CONSUME(Dot);
      this.CONSUME2(Word);
    });
  });

  /** `START..END` (END inclusive) or `START size SIZE`. */
  public range = this.RULE('range', () => {
    this.CONSUME(NumberLit, { LABEL: 'start' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(DotDot);
          this.CONSUME2(NumberLit, { LABEL: 'end' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('size'));
          this.CONSUME3(NumberLit, { LABEL: 'sizeValue' });
        },
      },
    ]);
  });

  /** A line the enclosing block does not understand; kept whole, reported later. */
  public unknownStatement = this.RULE('unknownStatement', () => {
    this.AT_LEAST_ONE(() => this.OR(this.alts('unknownStatement', () => strayTokens.map((t) => ({ ALT: () => this.CONSUME(t) })))));
    this.OPTION(() => this.SUBRULE(this.strayBlock));
  });

  public strayBlock = this.RULE('strayBlock', () => {
    this.CONSUME(LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semi) },
        { ALT: () => this.SUBRULE(this.strayBlock) },
        ...strayTokens.map((t) => ({ ALT: () => this.CONSUME2(t) })),
      ]),
    );
    this.CONSUME(RBrace);
  });

  /** Consumes one keyword of an enumeration, e.g. a region type. */
  private oneOf(e: EnumName, idx = 0): void {
    this.or(
      idx,
      this.alts(`enum ${e} ${idx}`, () => ENUMS[e].map((w) => ({ ALT: () => this.consume(idx, kw(w), { LABEL: e }) }))),
    );
  }

  /**
   * The alternatives of an OR that runs once per statement, made on its first call and kept
   * (chevrotain's advice on performance): made on every call, the arrays and closures of the
   * blocks' statement alternatives were about 40% of what the parser allocated. `site` names
   * the OR; `make` gives the same alternatives every time.
   */
  private alts(site: string, make: () => IOrAlt<unknown>[]): IOrAlt<unknown>[] {
    let list = this.altCache.get(site);
    if (!list) this.altCache.set(site, (list = make()));
    return list;
  }
  private readonly altCache = new Map<string, IOrAlt<unknown>[]>();

  /**
   * Builds a block rule: `{` statements `}` with the given statement alternatives.
   * A required block may open on the next line; an optional one (`iommu x vt-d { ... }`)
   * must open on the same line, or the next statement would be taken for its body.
   */
  private block(ruleName: string, statements: () => ParserMethod<[], CstNode>[], optional = false) {
    return this.RULE(ruleName, () => {
      if (!optional) this.MANY(() => this.CONSUME(Newline, { LABEL: 'leadingNewline' }));
      this.CONSUME(LBrace);
      // One token of lookahead picks the statement, so an error inside a known
      // statement is recovered there instead of turning the line into an unknown one.
      this.MANY2(() =>
        this.OR({
          MAX_LOOKAHEAD: 1,
          DEF: this.alts(ruleName, () => [
            { ALT: () => this.CONSUME2(Newline) },
            { ALT: () => this.CONSUME(Semi) },
            ...statements().map((rule) => ({ ALT: () => this.SUBRULE(rule) })),
            { ALT: () => this.SUBRULE(this.unknownStatement), IGNORE_AMBIGUITIES: true },
          ]),
        }),
      );
      this.CONSUME(RBrace);
    });
  }

  // ----- file ----------------------------------------------------------------------

  public file = this.RULE('file', () => {
    this.MANY(() =>
      this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          { ALT: () => this.CONSUME(Newline) },
          { ALT: () => this.CONSUME(Semi) },
          { ALT: () => this.SUBRULE(this.platformDecl) },
          { ALT: () => this.SUBRULE(this.guestDecl) },
          { ALT: () => this.SUBRULE(this.timelineDecl) },
          { ALT: () => this.SUBRULE(this.poolDecl) },
          { ALT: () => this.SUBRULE(this.firmwareDecl) },
          { ALT: () => this.SUBRULE(this.xenDecl) },
          { ALT: () => this.SUBRULE(this.vintfDecl) },
          { ALT: () => this.SUBRULE(this.commandsDecl) },
          { ALT: () => this.SUBRULE(this.unknownStatement), IGNORE_AMBIGUITIES: true },
          { ALT: () => this.CONSUME(RBrace, { LABEL: 'strayClose' }) },
        ],
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

  /** A release number such as `6.6` or `6.6.12` (RULES §0.2); its value is the tokens' text. */
  public release = this.RULE('release', () => {
    this.CONSUME(NumberLit);
    this.AT_LEAST_ONE(() => {
      this.CONSUME(Dot);
      this.CONSUME2(NumberLit);
    });
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
  public cmdqvStmt = this.RULE('cmdqvStmt', () => {
    this.CONSUME(kw('cmdqv'));
    this.OPTION(() => {
      this.CONSUME(kw('vintfs'));
      this.CONSUME(NumberLit, { LABEL: 'vintfCount' });
    });
    this.OPTION2(() => {
      this.CONSUME(kw('sids-per-vintf'));
      this.CONSUME2(NumberLit, { LABEL: 'sidCount' });
    });
    this.OPTION3(() => {
      this.CONSUME(kw('vcmdqs'));
      this.CONSUME3(NumberLit, { LABEL: 'vcmdqCount' });
    });
  });

  /** `ht-range-ignore`: the AMD IOMMU reports HTRangeIgnore (EFR2 bit 11); Linux 6.16+ then leaves the HT hole out. */
  public htRangeIgnoreStmt = this.RULE('htRangeIgnoreStmt', () => {
    this.CONSUME(kw('ht-range-ignore'));
  });

  public iommuBody = this.block(
    'iommuBody',
    () => [this.addressWidthStmt, this.msiModeStmt, this.pageSizesStmt, this.cmdqvStmt, this.htRangeIgnoreStmt],
    true,
  );

  public ramDecl = this.RULE('ramDecl', () => {
    this.CONSUME(kw('ram'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.range);
  });

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
  public tdispFlag = this.RULE('tdispFlag', () => {
    this.CONSUME(kw('tdisp'));
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
    this.tdispFlag,
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

  /** `iommufd NAME` after an assignment: QEMU's `iommufd=NAME` on the vfio-pci device (RULES §6.6). */
  public iommufdUse = this.RULE('iommufdUse', () => {
    this.CONSUME(kw('iommufd'));
    this.SUBRULE(this.name);
  });

  /** `iommufd NAME` in a guest: an iommufd instance, QEMU's `-object iommufd,id=NAME` (RULES §6.6). */
  public iommufdStmt = this.RULE('iommufdStmt', () => {
    this.CONSUME(kw('iommufd'));
    this.SUBRULE(this.name);
  });

  /** `dma-window RANGE`: where the device's DMA lands in guest-physical space (SEV vTOM checks, RULES §6.1). */
  public dmaWindow = this.RULE('dmaWindow', () => {
    this.CONSUME(kw('dma-window'));
    this.SUBRULE(this.range);
  });

  public machineStmt = this.RULE('machineStmt', () => {
    this.CONSUME(kw('machine'));
    this.oneOf('machineType');
    this.MANY(() => this.SUBRULE(this.machineOption));
  });

  public machineOption = this.RULE('machineOption', () =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw('memory'));
          this.CONSUME(NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('cpu'));
          this.oneOf('cpuVendor', 1);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('phys-bits'));
          this.CONSUME2(NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('max-ram-below-4g'));
          this.CONSUME3(NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('pci-hole64-size'));
          this.CONSUME4(NumberLit);
        },
      },
      // `-cpu MODEL`: a named model, or `host` / `max`; with `accel` it decides the default phys-bits.
      {
        ALT: () => {
          this.CONSUME(kw('cpu-model'));
          this.CONSUME(Word);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('accel'));
          this.oneOf('accelKind', 2);
        },
      },
      // `-m SIZE,slots=N,maxmem=SIZE`: the device-memory region above RAM.
      {
        ALT: () => {
          this.CONSUME(kw('maxmem'));
          this.CONSUME7(NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('slots'));
          this.CONSUME8(NumberLit);
        },
      },
      // `-cpu ...,host-phys-bits=on` (libvirt <maxphysaddr mode='passthrough'/>): the host's phys-bits, whatever the model.
      {
        ALT: () => {
          this.CONSUME(kw('host-phys-bits'));
          this.oneOf('onOff', 4);
        },
      },
      // virt `highmem=off`: 32-bit guest-physical addresses.
      {
        ALT: () => {
          this.CONSUME(kw('highmem'));
          this.oneOf('onOff', 3);
        },
      },
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

  public confidentialStmt = this.RULE('confidentialStmt', () => {
    this.CONSUME(kw('confidential'));
    this.oneOf('confidentialKind');
    this.OPTION(() => this.SUBRULE(this.confidentialBody));
  });
  public vtomStmt = this.RULE('vtomStmt', () => {
    this.CONSUME(kw('vtom'));
    this.CONSUME(NumberLit);
  });
  public confidentialBody = this.block('confidentialBody', () => [this.vtomStmt], true);

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
    this.confidentialStmt,
    this.viommuStmt,
    this.containerStmt,
    this.iommufdStmt,
  ]);

  // ----- pool ----------------------------------------------------------------------

  /** `pool NAME { host, host, ... }`: hosts separated by commas or newlines. */
  public poolDecl = this.RULE('poolDecl', () => {
    this.CONSUME(kw('pool'));
    this.SUBRULE(this.name);
    this.MANY(() => this.CONSUME(Newline, { LABEL: 'leadingNewline' }));
    this.CONSUME(LBrace);
    this.MANY2(() =>
      this.OR([{ ALT: () => this.CONSUME2(Newline) }, { ALT: () => this.CONSUME(Comma) }, { ALT: () => this.SUBRULE(this.ref) }]),
    );
    this.CONSUME(RBrace);
  });

  // ----- timeline ------------------------------------------------------------------

  public timelineDecl = this.RULE('timelineDecl', () => {
    this.CONSUME(kw('timeline'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.timelineBody);
  });

  public startStep = this.RULE('startStep', () => {
    this.CONSUME(kw('start'));
    this.SUBRULE(this.ref);
  });
  public stopStep = this.RULE('stopStep', () => {
    this.CONSUME(kw('stop'));
    this.SUBRULE(this.ref);
  });
  public migrateStep = this.RULE('migrateStep', () => {
    this.CONSUME(kw('migrate'));
    this.SUBRULE(this.ref);
    this.CONSUME(kw('to'));
    this.SUBRULE2(this.ref);
  });
  public hotplugStep = this.RULE('hotplugStep', () => {
    this.CONSUME(kw('hotplug'));
    this.SUBRULE(this.ref);
    this.CONSUME(kw('into'));
    this.SUBRULE2(this.ref);
    this.OPTION(() => {
      this.CONSUME(kw('as'));
      this.oneOf('assignMode');
    });
    this.OPTION2(() => this.SUBRULE(this.dmaWindow));
    // QEMU's `device_add vfio-pci,...,iommufd=NAME`: the hot-added device joins that instance (RULES §6.6).
    this.OPTION3(() => this.SUBRULE(this.iommufdUse));
  });
  public unplugStep = this.RULE('unplugStep', () => {
    this.CONSUME(kw('unplug'));
    this.SUBRULE(this.ref);
    this.OPTION(() => {
      this.CONSUME(kw('from'));
      this.SUBRULE2(this.ref);
    });
  });
  public tdispStep = this.RULE('tdispStep', () => {
    this.CONSUME(kw('tdisp'));
    this.SUBRULE(this.ref);
    this.oneOf('tdispMessage');
  });
  public configStep = this.RULE('configStep', () => {
    this.CONSUME(kw('config'));
    this.SUBRULE(this.ref);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw('command'));
          this.MANY(() => this.CONSUME(Word, { LABEL: 'bits' }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('devctl'));
          this.MANY2(() => this.CONSUME2(Word, { LABEL: 'bits' }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('bar'));
          this.CONSUME(NumberLit, { LABEL: 'barIndex' });
          this.OPTION(() => this.CONSUME2(NumberLit, { LABEL: 'value' }));
        },
      },
      {
        // `sriov` alone: some write to the SR-IOV capability; with a field, one that takes the VFs away (RULES §5.6).
        ALT: () => {
          this.CONSUME(kw('sriov'));
          this.OPTION2(() =>
            this.OR2([
              {
                ALT: () => {
                  this.CONSUME(kw('vf-enable'));
                  this.CONSUME(kw('off'));
                },
              },
              {
                ALT: () => {
                  this.CONSUME(kw('vf-mse'));
                  this.CONSUME2(kw('off'));
                },
              },
              {
                ALT: () => {
                  this.CONSUME(kw('numvfs'));
                  this.CONSUME3(NumberLit, { LABEL: 'value' });
                },
              },
            ]),
          );
        },
      },
      { ALT: () => this.oneOf('configSimple', 1) },
    ]);
  });
  public powerStep = this.RULE('powerStep', () => {
    this.CONSUME(kw('power'));
    this.SUBRULE(this.ref);
    this.oneOf('powerState');
  });
  public linkStep = this.RULE('linkStep', () => {
    this.CONSUME(kw('link'));
    this.SUBRULE(this.ref);
    this.oneOf('linkState');
  });
  public launchUpdateStep = this.RULE('launchUpdateStep', () => {
    this.CONSUME(kw('launch-update'));
    this.SUBRULE(this.ref);
  });
  public convertStep = this.RULE('convertStep', () => {
    this.CONSUME(kw('convert'));
    this.SUBRULE(this.ref);
    this.CONSUME(kw('to'));
    this.oneOf('convertMode');
  });
  /** A P2M change: the domain gives pages back (`balloon`) or frees them (`free`). */
  public balloonStep = this.RULE('balloonStep', () => {
    this.CONSUME(kw('balloon'));
    this.SUBRULE(this.ref);
    this.OPTION(() => this.SUBRULE(this.range));
  });
  public freeStep = this.RULE('freeStep', () => {
    this.CONSUME(kw('free'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.range);
  });

  public timelineBody = this.block('timelineBody', () => [
    this.startStep,
    this.stopStep,
    this.migrateStep,
    this.hotplugStep,
    this.unplugStep,
    this.tdispStep,
    this.configStep,
    this.powerStep,
    this.linkStep,
    this.launchUpdateStep,
    this.convertStep,
    this.balloonStep,
    this.freeStep,
  ]);

  // ----- firmware ------------------------------------------------------------------

  public firmwareDecl = this.RULE('firmwareDecl', () => {
    this.CONSUME(kw('firmware'));
    this.SUBRULE(this.name);
    this.CONSUME(kw('for'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.firmwareBody);
  });

  public driverDecl = this.RULE('driverDecl', () => {
    this.CONSUME(kw('driver'));
    this.SUBRULE(this.name);
    this.CONSUME(kw('for'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.driverBody);
  });

  public mapStmt = this.RULE('mapStmt', () => {
    this.CONSUME(kw('map'));
    this.SUBRULE(this.name);
    this.oneOf('dmaOperation');
    this.MANY(() => this.SUBRULE(this.mapOption));
  });

  public mapOption = this.RULE('mapOption', () =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw('at'));
          this.CONSUME(NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('size'));
          this.CONSUME2(NumberLit);
        },
      },
      { ALT: () => this.CONSUME(kw('pending')) },
      { ALT: () => this.CONSUME(kw('completed')) },
      {
        ALT: () => {
          this.CONSUME(kw('from'));
          this.oneOf('bufferSource', 1);
        },
      },
    ]),
  );

  /** `edk2 edk2-stable202411`: the EDK II release the firmware is built from (RULES §0.2). */
  public edk2Stmt = this.RULE('edk2Stmt', () => {
    this.CONSUME(kw('edk2'));
    this.CONSUME(Word, { LABEL: 'tag' });
  });

  /** `on exit-boot-services tpl callback { actions }`, or one action on the same line. */
  public handlerStmt = this.RULE('handlerStmt', () => {
    this.CONSUME(kw('on'));
    this.OR([
      { ALT: () => this.CONSUME(kw('exit-boot-services')) },
      { ALT: () => this.CONSUME(kw('before-exit-boot-services')) },
      {
        ALT: () => {
          this.CONSUME(kw('event'));
          this.SUBRULE(this.name);
        },
      },
    ]);
    this.CONSUME(kw('tpl'));
    this.oneOf('tplLevel', 1);
    this.OR2([{ ALT: () => this.SUBRULE(this.actionBody) }, { ALT: () => this.SUBRULE(this.action) }, { ALT: EMPTY_ALT() }]);
  });

  public action = this.RULE('action', () =>
    this.OR([
      { ALT: () => this.CONSUME(kw('stop-dma')) },
      {
        ALT: () => {
          this.CONSUME(kw('unmap'));
          this.SUBRULE(this.ref);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('unmap-all'));
          this.OPTION(() => this.CONSUME(kw('deferred')));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('free'));
          this.SUBRULE2(this.ref);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('signal'));
          this.SUBRULE(this.name);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('call'));
          this.CONSUME(Word, { LABEL: 'service' });
        },
      },
    ]),
  );

  public actionBody = this.block('actionBody', () => [this.action], true);
  public driverBody = this.block('driverBody', () => [this.mapStmt, this.handlerStmt]);
  public iommuProtocolDecl = this.RULE('iommuProtocolDecl', () => {
    this.CONSUME(kw('iommu-protocol'));
    this.SUBRULE(this.iommuProtocolBody);
  });
  public iommuProtocolBody = this.block('iommuProtocolBody', () => [this.handlerStmt]);
  public firmwareBody = this.block('firmwareBody', () => [this.edk2Stmt, this.driverDecl, this.iommuProtocolDecl]);

  // ----- xen -----------------------------------------------------------------------

  public xenDecl = this.RULE('xenDecl', () => {
    this.CONSUME(kw('xen'));
    this.SUBRULE(this.name);
    this.CONSUME(kw('on'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.xenBody);
  });
  public dom0Decl = this.RULE('dom0Decl', () => {
    this.CONSUME(kw('dom0'));
    this.SUBRULE(this.dom0Body);
  });
  public domainDecl = this.RULE('domainDecl', () => {
    this.CONSUME(kw('domain'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.domainBody);
  });
  public modeStmt = this.RULE('modeStmt', () => {
    this.CONSUME(kw('mode'));
    this.oneOf('xenMode');
  });
  public dom0IommuStmt = this.RULE('dom0IommuStmt', () => {
    this.CONSUME(kw('iommu'));
    this.AT_LEAST_ONE(() => this.oneOf('dom0Iommu'));
  });
  public mapReservedStmt = this.RULE('mapReservedStmt', () => {
    this.CONSUME(kw('map-reserved'));
    this.oneOf('onOff');
  });
  public passStmt = this.RULE('passStmt', () => {
    this.CONSUME(kw('pass'));
    this.SUBRULE(this.ref);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.ref);
    });
    // xl's per-device `pci = [ 'SBDF,rdm_policy=relaxed' ]`.
    this.OPTION(() => {
      this.CONSUME(kw('rdm-policy'));
      this.oneOf('rdmPolicy');
    });
  });
  /** xl's `rdm = "strategy=host,policy=relaxed"`: the domain's default RDM policy. */
  public rdmStmt = this.RULE('rdmStmt', () => {
    this.CONSUME(kw('rdm'));
    this.OPTION(() => {
      this.CONSUME(kw('strategy'));
      this.CONSUME(kw('host'));
    });
    this.OPTION2(() => {
      this.CONSUME(kw('policy'));
      this.oneOf('rdmPolicy');
    });
  });
  public iommuMapStmt = this.RULE('iommuMapStmt', () => {
    this.CONSUME(kw('iommu-map'));
    this.oneOf('xenMap');
  });
  public quarantineStmt = this.RULE('quarantineStmt', () => {
    this.CONSUME(kw('quarantine'));
    this.oneOf('quarantineMode');
  });
  public xenRangeStmt = this.RULE('xenRangeStmt', () => {
    this.CONSUME(kw('xen-range'));
    this.SUBRULE(this.range);
  });
  public dom0Body = this.block('dom0Body', () => [this.modeStmt, this.dom0IommuStmt, this.mapReservedStmt, this.iommuMapStmt]);
  public domainBody = this.block('domainBody', () => [
    this.modeStmt,
    this.passStmt,
    this.iommuMapStmt,
    this.quarantineStmt,
    this.ramDecl,
    this.rdmStmt,
  ]);
  /** `xen 4.17`: the hypervisor's release; rules that changed between releases follow it. */
  public xenVersionStmt = this.RULE('xenVersionStmt', () => {
    this.CONSUME(kw('xen'));
    this.SUBRULE(this.release);
  });
  public xenBody = this.block('xenBody', () => [
    this.dom0Decl,
    this.domainDecl,
    this.xenRangeStmt,
    this.quarantineStmt,
    this.xenVersionStmt,
  ]);

  // ----- SMMU CMDQV ----------------------------------------------------------------

  public vintfDecl = this.RULE('vintfDecl', () => {
    this.CONSUME(kw('vintf'));
    this.SUBRULE(this.name);
    this.CONSUME(kw('on'));
    this.SUBRULE(this.ref);
    // Without `for`, the host kernel's own VINTF (VINTF0).
    this.OPTION(() => {
      this.CONSUME(kw('for'));
      this.SUBRULE2(this.ref);
    });
    this.SUBRULE(this.vintfBody);
  });
  public ownerStmt = this.RULE('ownerStmt', () => {
    this.CONSUME(kw('owner'));
    this.oneOf('ownerKind');
  });
  public streamStmt = this.RULE('streamStmt', () => {
    this.CONSUME(kw('stream'));
    this.SUBRULE(this.ref);
    this.CONSUME(kw('as'));
    this.CONSUME(NumberLit);
  });
  public vmidStmt = this.RULE('vmidStmt', () => {
    this.CONSUME(kw('vmid'));
    this.CONSUME(NumberLit);
  });
  public hypOwnStmt = this.RULE('hypOwnStmt', () => {
    this.CONSUME(kw('hyp-own'));
    this.oneOf('onOff');
  });
  /** An LVCMDQ the VMM allocates (IOMMU_HW_QUEUE_ALLOC): `queue INDEX size BYTES [at ADDRESS]`. */
  public queueStmt = this.RULE('queueStmt', () => {
    this.CONSUME(kw('queue'));
    this.CONSUME(NumberLit, { LABEL: 'index' });
    this.CONSUME(kw('size'));
    this.CONSUME2(NumberLit, { LABEL: 'queueSize' });
    this.OPTION(() => {
      this.CONSUME(kw('at'));
      this.CONSUME3(NumberLit, { LABEL: 'base' });
    });
  });
  public vintfBody = this.block('vintfBody', () => [this.ownerStmt, this.streamStmt, this.vmidStmt, this.hypOwnStmt, this.queueStmt]);

  public commandsDecl = this.RULE('commandsDecl', () => {
    this.CONSUME(kw('commands'));
    this.SUBRULE(this.ref);
    this.SUBRULE(this.commandsBody);
  });
  public batchDecl = this.RULE('batchDecl', () => {
    this.CONSUME(kw('batch'));
    this.SUBRULE(this.batchBody);
  });
  /** One SMMUv3 command, e.g. `TLBI_NH_VA asid 3 va 0x1000` or `CFGI_STE 0x8`. */
  public smmuCommand = this.RULE('smmuCommand', () => {
    this.CONSUME(Word, { LABEL: 'opcode' });
    this.MANY(() =>
      this.OR([{ ALT: () => this.CONSUME(NumberLit, { LABEL: 'operand' }) }, { ALT: () => this.CONSUME2(Word, { LABEL: 'operand' }) }]),
    );
  });
  public batchBody = this.block('batchBody', () => [this.smmuCommand]);
  public commandsBody = this.block('commandsBody', () => [this.batchDecl]);
}

/** The one parser instance (building one runs chevrotain's grammar analysis). */
let instance: IommuParser | undefined;
export function parserInstance(): IommuParser {
  return (instance ??= new IommuParser());
}

export type { IToken };
