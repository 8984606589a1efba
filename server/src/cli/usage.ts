/**
 * What the CLI accepts: each command's usage text (printed by `iommu-lens --help` together and
 * by `iommu-lens COMMAND --help` alone) and the option parser every command uses, whose errors
 * name the options the command does take.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS } from '../ide';

export const VERSION = '0.1.0';

/** A mistake in the command line: exit 2, with a pointer to the usage. */
export class UsageError extends Error {}

/** Each command's usage, as `iommu-lens --help` lists it (two-space indent, descriptions at column 21). */
const COMMANDS: Readonly<Record<string, string>> = {
  check: `  check PATH... [--format text|json|sarif|github] [--fix [--dry-run]]
                [--shard K/N] [--jobs N]
                    check .iommu files (directories are searched, except node_modules
                    and hidden ones; links, FIFOs and devices are skipped with a note)
      --format F           text (default; file:line:col: severity CODE message),
                           json (an array of findings, 0-based LSP positions),
                           sarif (SARIF 2.1.0: GitHub code scanning, other CI), or
                           github (GitHub Actions workflow commands: annotations)
      --fix                apply every fix that is unambiguous (one fix, edits that
                           overlap no other), each file through a temporary file
                           renamed over it; prints what changed, then what remains
      --dry-run            with --fix: print the changes as a unified diff instead
      --max-file-size N    skip files over N characters (default ${DEFAULT_OPTIONS.maxFileSize})
      --severity CODE=LEVEL
                           report CODE as error, warning, information or hint, or
                           not at all (off); repeatable; the editor's setting
                           iommuLens.diagnostics.severity
      --shard K/N          check part K of N of the workspace (whole components,
                           the same split on every machine): a CI matrix runs
                           1/N ... N/N; merge-reports joins their json or sarif
      --jobs N             analyse on N worker threads (same output)`,
  'merge-reports': `  merge-reports FILE...
                    the json or sarif outputs of check --shard K/N, one per shard, as
                    the one output check gives without --shard (exit 1 if it holds
                    an error, 2 if the reports are not the shards of one run)`,
  iova: `  iova PATH... --guest G
  iova PATH... --platform P (--group N | --device D)
                    print the usable IOVA list as VFIO_IOMMU_GET_INFO reports it:
                    one inclusive 0xSTART-0xEND per line; a group with a direct
                    region has none (no container can take it): an error says so`,
  layout: `  layout PATH... --pool P --memory SIZE [--machine q35|i440fx|virt] [--cpu amd|intel]
                    print the machine line (.iommu) for SIZE of guest RAM (e.g. 16G) that
                    QEMU lays out clear of every host of pool P (the union of the hosts'
                    reserved regions, below the narrowest IOMMU aperture), then the QEMU
                    options and the libvirt XML that give it; exit 1 when QEMU can lay out
                    no such RAM of that size, naming the largest it can and the host that
                    blocks more (machine default: virt for arm64 hosts, else q35; cpu
                    default: amd when every host has an AMD-Vi IOMMU)`,
  map: `  map PATH... (--guest G | --platform P) [--svg FILE]
                    the address map: every address space of a guest (guest physical,
                    its container's IOVA space, its host's physical space) or of a
                    platform (host physical, each IOMMU group's IOVA space), with
                    reserved regions, RAM and conflicts; as text, one line per range
                    (0xSTART-0xEND  kind  label), or with --svg as a picture written
                    to FILE ('-': standard output)`,
  format: `  format PATH... [--check | --write]
                    the formatter the editor uses (canonical spacing, aligned columns,
                    comments kept, meaning unchanged): prints the formatted text of
                    one file, or
                    with --check lists the files that are not formatted (exit 1 if
                    any), or with --write rewrites them (each through a temporary
                    file renamed over it); a file with syntax errors is left alone and
                    reported (exit 1); a file that changed since it was read or cannot
                    be written is left whole and named, and the others go on (exit 2)`,
  import: `  import sysfs DIR [--platform NAME]
                    print a platform description of a captured /sys/kernel/iommu_groups
                    tree (DIR/N/reserved_regions, DIR/N/devices/BDF); reads only
                    regular files of at most 1 MiB inside DIR (links only within it)
  import reserved-regions FILE [--group N] [--platform NAME]
                    the same for one group's reserved_regions file
  import acpi PATH... [--platform NAME] [--pci DIR|FILE]
                    a platform description from the host's ACPI tables: a DMAR, IVRS
                    or IORT file, a directory of them (/sys/firmware/acpi/tables), or
                    the text of acpidump; --pci gives the devices and their classes (a
                    copy of /sys/bus/pci/devices, or the output of lspci -n)
  import host [--root DIR] [--platform NAME]
                    the running host (or a copy of its /sys and /proc under DIR): IOMMU
                    groups and their regions, devices and classes, IOMMU units, ACPI
                    tables, the kernel command line; what cannot be read is noted
  import libvirt FILE [--name G] [--platform NAME PATH...]
  import qemu FILE [--name G] [--platform NAME PATH...]
  import qemu [--name G] [--platform NAME PATH...] -- ARGS...
                    a guest from virsh dumpxml, or from a QEMU command line (a file, or
                    the words after --); host devices are looked up by BDF on platform
                    NAME of the .iommu files PATH...`,
  export: `  export qemu|libvirt --guest G PATH...
                    the QEMU options or the libvirt XML for guest G's memory layout and
                    devices; exit 1 when its layout is not one QEMU can produce`,
};

const EXIT_STATUS = `exit status: 0 no errors, 1 errors found, 2 usage error, unreadable path (or directory)
or a file not written`;

export const USAGE = `usage: iommu-lens <command> [options]

commands:
${Object.values(COMMANDS).join('\n')}

options:
  -h, --help        show this help (after a command: that command's help)
  -V, --version     show the version

${EXIT_STATUS}`;

export const isCommand = (name: string): boolean => Object.hasOwn(COMMANDS, name);

/** `iommu-lens COMMAND --help`: that command's usage and the exit statuses. */
export function commandUsage(command: string): string {
  return `usage:\n${COMMANDS[command]}\n  -h, --help        show this help\n\n${EXIT_STATUS}`;
}

/** `--help` or `-h` among a command's words (not among the words after `--`, which belong to QEMU). */
export function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string; multiple?: boolean }>;
export type OptionValue = string | boolean | string[] | undefined;

/**
 * A command's options and positionals. An option the command does not take is a usage error
 * that names the ones it does (`command` is how the user wrote it, e.g. `import acpi`).
 */
export function options(
  args: readonly string[],
  spec: OptionSpec,
  command: string,
): { values: Record<string, OptionValue>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...args], options: spec, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, OptionValue>, positionals: r.positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    if (!/^Unknown option/.test(message)) throw new UsageError(message);
    const names = Object.keys(spec).map((k) => `--${k}`);
    const takes = names.length ? `${command} takes ${names.join(', ')}` : `${command} takes no options`;
    // Node's message suggests '--' for a positional that starts with '-': keep only the option's name.
    throw new UsageError(`${message.replace(/\. To specify a positional.*$/s, '')}; ${takes} (and --help)`);
  }
}
