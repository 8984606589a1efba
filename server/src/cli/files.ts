/**
 * Finding the .iommu files behind the CLI's PATH arguments, and reading them as UTF-8:
 * bytes that are not UTF-8 are read as U+FFFD (as an editor shows them) and reported.
 */
import { isUtf8 } from 'node:buffer';
import { statSync, type Stats } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Span } from '@iommu-lens/grammar';
import { finding, type Finding } from '../model';
import { errnoReason } from './errors';
import { readRegularFileSync, walkSync } from '../workspace/files';

export interface InputFile {
  path: string;
  uri: string;
  display: string;
  text: string;
  /** Runs of bytes that are not UTF-8, and where their U+FFFD stand in `text`. */
  invalidUtf8: InvalidBytes[];
}

/** A run of bad bytes: where, how many, and the first few (all of a long run would be a copy of it). */
export interface InvalidBytes {
  span: Span;
  byteOffset: number;
  length: number;
  bytes: number[];
}

/** Bytes of a run kept for its message. */
const SHOWN_BYTES = 8;

/** A path that cannot be read: the CLI exits 2 with its message (1 would read as "errors found"). */
export class InputError extends Error {}

/**
 * Files given by name are read whatever their extension; directories are searched for
 * the files of a workspace (server/src/workspace/files.ts: the rule the language server
 * reads its folders by). Paths print relative to the working directory. `note` hears what
 * is skipped (a FIFO, a link): the rest is still checked.
 */
export function collectInputs(paths: readonly string[], cwd: string, note: (message: string) => void): InputFile[] {
  const found = new Map<string, InputFile>();
  const read = (f: string) => {
    if (found.has(f)) return;
    let r: ReturnType<typeof readRegularFileSync>;
    try {
      r = readRegularFileSync(f);
    } catch (e) {
      throw new InputError(`cannot read '${display(f, cwd)}': ${errnoReason(e)}`);
    }
    if (r.kind === 'not-regular') {
      note(`skipped '${display(f, cwd)}': ${r.why}`);
      return;
    }
    const decoded = decodeUtf8(r.bytes);
    found.set(f, { path: f, uri: pathToFileURL(f).href, display: display(f, cwd), text: decoded.text, invalidUtf8: decoded.invalid });
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new InputError(`cannot read '${p}': ${errnoReason(e)}`);
    }
    if (!st.isDirectory()) {
      read(abs);
      continue;
    }
    let any = false;
    for (const f of walkSync(abs)) {
      if (f.kind === 'unreadable') throw new InputError(`cannot read directory '${display(f.path, cwd)}': ${errnoReason(f.error)}`);
      if (f.kind === 'skipped') note(`skipped '${display(f.path, cwd)}': ${f.why}`);
      else {
        any = true;
        read(f.path);
      }
    }
    if (!any) throw new InputError(`no .iommu files under '${p}'`);
  }
  if (found.size === 0) throw new InputError('no files to check');
  return [...found.values()].sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

function display(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  const shown = rel && !rel.startsWith('..') ? rel : abs;
  return shown.split(sep).join('/');
}

export interface Decoded {
  text: string;
  invalid: InvalidBytes[];
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * `bytes` as text the way every UTF-8 decoder of the web platform (TextDecoder, Node's
 * `readFile(..., 'utf8')`, VS Code) reads them: each maximal ill-formed subsequence becomes
 * one U+FFFD (WHATWG Encoding, "UTF-8 decoder"). Also says where: adjacent bad
 * subsequences make one run, with its span in the text and its bytes. A file that is
 * UTF-8 throughout takes the fast path.
 */
export function decodeUtf8(bytes: Uint8Array): Decoded {
  if (isUtf8(bytes)) return { text: decoder.decode(bytes), invalid: [] };
  const parts: string[] = [];
  const invalid: InvalidBytes[] = [];
  let length = 0; // UTF-16 units so far
  let good = 0; // start of the valid bytes not yet decoded
  const bad = (from: number, to: number) => {
    if (from > good) {
      const t = decoder.decode(bytes.subarray(good, from));
      parts.push(t);
      length += t.length;
    }
    parts.push('\ufffd');
    const last = invalid.at(-1);
    if (last && last.span.end === length && last.byteOffset + last.length === from) {
      last.span.end++;
      last.bytes.push(...bytes.subarray(from, Math.min(to, from + SHOWN_BYTES - last.bytes.length)));
      last.length += to - from;
    } else {
      invalid.push({
        span: { start: length, end: length + 1 },
        byteOffset: from,
        length: to - from,
        bytes: [...bytes.subarray(from, Math.min(to, from + SHOWN_BYTES))],
      });
    }
    length++;
    good = to;
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b <= 0x7f) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else {
      bad(i, i + 1);
      i++;
      continue;
    }
    let j = i + 1;
    for (let seen = 0; seen < need; seen++, j++) {
      const c = bytes[j];
      if (c === undefined || c < lower || c > upper) break;
      lower = 0x80;
      upper = 0xbf;
    }
    // A sequence cut short is one U+FFFD for the bytes it had; the byte that cut it starts anew.
    if (j - i < need + 1) bad(i, j);
    i = j;
  }
  if (good < bytes.length) parts.push(decoder.decode(bytes.subarray(good)));
  return { text: parts.join(''), invalid };
}

/** At most this many `invalid-utf8` per file (a binary file has a run every few bytes); past it the rest are counted. */
const MAX_ENCODING_FINDINGS = 200;

/** One `invalid-utf8` error per run of bad bytes, at the U+FFFD that stand for them. */
export function encodingFindings(file: Pick<InputFile, 'uri' | 'invalidUtf8'>): Finding[] {
  const runs = file.invalidUtf8;
  const out = runs.slice(0, MAX_ENCODING_FINDINGS).map((r) => {
    const shown =
      r.bytes.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ') + (r.length > r.bytes.length ? ` ... (${r.length} bytes)` : '');
    return finding(
      'invalid-utf8',
      { uri: file.uri, span: r.span },
      `${r.length === 1 ? 'byte' : 'bytes'} ${shown} at byte ` +
        `offset ${r.byteOffset} ${r.length === 1 ? 'is' : 'are'} not UTF-8; read as U+FFFD`,
    );
  });
  const rest = runs[MAX_ENCODING_FINDINGS];
  if (rest) {
    out.push(
      finding(
        'invalid-utf8',
        { uri: file.uri, span: rest.span },
        `${runs.length - MAX_ENCODING_FINDINGS} more runs of bytes that are not UTF-8 not shown (is this a text file?)`,
      ),
    );
  }
  return out;
}
