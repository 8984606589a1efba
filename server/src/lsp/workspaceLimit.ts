/**
 * How much of a workspace the server holds, wherever its files come from (fileSource.ts):
 * files are read while the workspace stays under WORKSPACE_LIMIT, and those past it are
 * counted, named in a `workspace-too-large` finding on their folder, and make the analysis
 * incomplete (no `unknown-name`: any name may be declared in them).
 */
import { finding, type Finding } from '../model';
import { inside } from './fileSource';

/**
 * How much of a workspace the server holds. It keeps every file's text, parse, model and
 * simulation live, which measured about 65 bytes per byte of text (200k lines, 7.7 MB:
 * under 500 MiB) and about 11 KB per file beyond its text (50,000 small files: 550 MiB of
 * heap, bench/startup.mjs). So 16 MiB of text is about 1 GiB, and 50,000 files about half
 * that on their own: within the server's heap (about 4 GiB), and far past any workspace of
 * descriptions we have seen (the 200k-line fleet has 7.7 MB in 2,782 files). Past it, the
 * rest is counted, not read: a folder that size is rather a home directory opened by
 * accident than a set of descriptions.
 */
export const WORKSPACE_LIMIT = { files: 50_000, chars: 16 * 2 ** 20 };

const mib = (chars: number) => `${(chars / 2 ** 20).toFixed(1)} MiB`;

/**
 * The files of the workspace left unread, past WORKSPACE_LIMIT: counted, named in a
 * `workspace-too-large` finding on their folder, and while there is one the analysis is
 * incomplete (no `unknown-name`: any name may be declared in them). The user is told once
 * each time the workspace goes past the limit.
 */
export class WorkspaceLimit {
  private readonly unread = new Set<string>();
  private told = false;
  /** Unread files per folder, for the folders of `key` (counted again only when the unread files or the folders change). */
  private counts: { key: string; byFolder: Map<string, number> } | undefined;

  /** `held`: what the host holds; `changed`: the workspace went past the limit or back. */
  constructor(
    private readonly held: () => { files: number; chars: number },
    private readonly changed: () => void,
  ) {}

  /** Some files are unread. */
  get incomplete(): boolean {
    return this.unread.size > 0;
  }

  /** Whether a file of `bytes` more keeps the workspace within the limit. */
  fits(bytes: number): boolean {
    const held = this.held();
    return held.files < WORKSPACE_LIMIT.files && held.chars + bytes <= WORKSPACE_LIMIT.chars;
  }

  leave(uri: string): void {
    if (this.unread.has(uri)) return;
    this.unread.add(uri);
    this.counts = undefined;
    if (this.unread.size === 1) this.changed();
  }

  /** `uri` is read, gone, or out of the workspace. */
  forget(uri: string): void {
    if (!this.unread.delete(uri)) return;
    this.counts = undefined;
    if (this.unread.size) return;
    this.told = false;
    this.changed();
  }

  /** Forgets the unread files `gone` says left the workspace (a folder removed). */
  forgetWhere(gone: (uri: string) => boolean): void {
    for (const uri of [...this.unread]) if (gone(uri)) this.forget(uri);
  }

  /** What to tell the user, once while the workspace stays past the limit. */
  news(): string | undefined {
    if (this.unread.size === 0 || this.told) return undefined;
    this.told = true;
    return message(this.unread.size, this.held());
  }

  /** One `workspace-too-large` per folder with files left unread, on the folder itself. */
  findings(folders: readonly string[]): Map<string, Finding[]> {
    const out = new Map<string, Finding[]>();
    if (this.unread.size === 0) return out;
    const key = folders.join('\n');
    if (this.counts?.key !== key) {
      const byFolder = new Map<string, number>();
      for (const uri of this.unread) {
        const folder = folders.find((f) => inside(uri, f));
        if (folder !== undefined) byFolder.set(folder, (byFolder.get(folder) ?? 0) + 1);
      }
      this.counts = { key, byFolder };
    }
    const text = message(this.unread.size, this.held());
    for (const [folder, n] of this.counts.byFolder) {
      out.set(folder, [
        finding(
          'workspace-too-large',
          { uri: folder, span: { start: 0, end: 0 } },
          `${n} .iommu files in this folder were not read. ${text}`,
        ),
      ]);
    }
    return out;
  }
}

/** How much was read, what is left out, what it costs and what to do. */
function message(unread: number, held: { files: number; chars: number }): string {
  return (
    `IOMMU Lens read ${held.files} files (${mib(held.chars)} of text) of this workspace and left ${unread} more unread: ` +
    (`it holds at most ${WORKSPACE_LIMIT.files} files ` +
      `or ${mib(WORKSPACE_LIMIT.chars)} of text. Names declared in the files not read are unknown, `) +
    'so unknown-name is not reported. Open a smaller folder, or check the whole tree with the CLI (iommu-lens check).'
  );
}
