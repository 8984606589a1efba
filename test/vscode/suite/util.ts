/**
 * Helpers for the scenarios that run inside a VS Code extension host: the workspace is a
 * fresh copy of examples/ (see ../run.mjs), so files are named relative to it.
 */
import * as vscode from 'vscode';

export const EXTENSION_ID = 'iommu-lens.iommu-lens';

/**
 * Bounds every wait. The first one covers activation, the server's start and its analysis of
 * the whole examples/ workspace, on a machine shared with other test runs.
 */
const WAIT_MS = 60_000;

export function fileUri(relative: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder: the runner opens a copy of examples/');
  return vscode.Uri.joinPath(folder.uri, ...relative.split('/'));
}

export async function open(relative: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(fileUri(relative));
  return vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
}

/**
 * Polls until `probe` returns something other than undefined, and returns it. Diagnostics,
 * activation and webview tabs all arrive asynchronously; the error names what never came.
 */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function codeOf(d: vscode.Diagnostic): string {
  const c = d.code;
  return typeof c === 'object' ? String(c.value) : String(c);
}

/** The extension's findings for one file, as `code severity line:col-line:col` (0-based, as the API). */
export function findings(uri: vscode.Uri): string[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((d) => d.source === 'iommu-lens')
    .map((d) => `${codeOf(d)} ${vscode.DiagnosticSeverity[d.severity]} ${span(d.range)}`)
    .sort();
}

export function span(r: vscode.Range): string {
  return `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/** Waits until the file's findings are exactly `expected` and returns them. */
export function findingsBecome(relative: string, expected: string[]): Promise<string[]> {
  const uri = fileUri(relative);
  const want = JSON.stringify([...expected].sort());
  let last: string[] = [];
  return until(`the findings of ${relative} to be ${want}`, () => {
    last = findings(uri);
    return JSON.stringify(last) === want ? last : undefined;
  }).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen: ${JSON.stringify(last)}`);
  });
}
