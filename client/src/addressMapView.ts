/**
 * The address-map webview: the map of the guest or platform at the cursor, drawn by the
 * language server (`iommuLens/addressMap`) as an SVG. It follows the cursor and the text
 * (debounced), and a click on a bar reveals the line it comes from. The page runs under a
 * strict CSP: no remote content, one nonce'd script and style per render, no inline handlers.
 */
import {
  Range,
  TextEditorRevealType,
  TextEditorSelectionChangeKind,
  Uri,
  ViewColumn,
  window,
  workspace,
  type Disposable,
  type TextDocument,
  type TextEditor,
  type WebviewPanel,
} from 'vscode';
import type { BaseLanguageClient } from 'vscode-languageclient';
import { ADDRESS_MAP_REQUEST, type AddressMapResult, type Position } from '../../server/src/lsp/protocol';

const DEBOUNCE_MS = 300;

const isIommu = (d: TextDocument) => d.languageId === 'iommu';

export class AddressMapView {
  private static current: AddressMapView | undefined;

  /** Opens the panel beside the editor, or brings it back and follows the active editor. */
  static show(client: BaseLanguageClient): void {
    const existing = AddressMapView.current;
    existing?.panel.reveal(undefined, true);
    const view = existing ?? (AddressMapView.current = new AddressMapView(client));
    view.follow(window.activeTextEditor);
    view.refresh();
  }

  private readonly panel: WebviewPanel;
  private readonly disposables: Disposable[] = [];
  /** Where the map is taken from: the last .iommu editor and cursor the user was in. */
  private source: { uri: string; position: Position; column?: ViewColumn } | undefined;
  private targets = new Map<number, AddressMapResult['targets'][number]>();
  /** What the page shows, so an unchanged answer does not re-render it. */
  private shown = '';
  private scroll = { x: 0, y: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Answers to older requests are dropped. */
  private generation = 0;
  /** Set while a click reveals a line, so the map does not jump to the file it opened. */
  private revealing = false;

  private constructor(private readonly client: BaseLanguageClient) {
    this.panel = window.createWebviewPanel(
      'iommuLens.addressMap',
      'Address Map',
      { viewColumn: ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [] },
    );
    this.panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    // Shown again after being hidden: the page was reloaded anyway, so render afresh (at the last
    // scroll position). Focus changes alone leave the page alone.
    let visible = true;
    this.panel.onDidChangeViewState(
      (e) => {
        if (e.webviewPanel.visible && !visible) {
          this.shown = '';
          this.refresh();
        }
        visible = e.webviewPanel.visible;
      },
      undefined,
      this.disposables,
    );
    this.panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m), undefined, this.disposables);
    workspace.onDidChangeTextDocument(
      (e) => {
        if (isIommu(e.document) && e.contentChanges.length) this.schedule();
      },
      undefined,
      this.disposables,
    );
    window.onDidChangeActiveTextEditor(
      (e) => {
        if (!this.revealing && this.follow(e)) this.schedule();
      },
      undefined,
      this.disposables,
    );
    window.onDidChangeTextEditorSelection(
      (e) => {
        // A selection set by a command (our own reveal among them) is not the user moving on.
        if (e.kind === TextEditorSelectionChangeKind.Command || this.revealing) return;
        if (this.follow(e.textEditor)) this.schedule();
      },
      undefined,
      this.disposables,
    );
  }

  /** Takes the map from this editor if it shows a .iommu file; says whether it did. */
  private follow(editor: TextEditor | undefined): boolean {
    if (!editor || !isIommu(editor.document)) return false;
    const { line, character } = editor.selection.active;
    this.source = { uri: editor.document.uri.toString(), position: { line, character }, column: editor.viewColumn };
    return true;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, DEBOUNCE_MS);
  }

  private refresh(): void {
    const source = this.source;
    const mine = ++this.generation;
    if (!source) {
      this.render('Open a .iommu file and put the cursor in a guest or platform.');
      return;
    }
    this.client.sendRequest<AddressMapResult | null>(ADDRESS_MAP_REQUEST, { uri: source.uri, position: source.position }).then(
      (r) => {
        if (mine !== this.generation) return;
        if (!r) {
          this.render('No guest or platform here: put the cursor in a guest or platform declaration.');
          return;
        }
        this.targets = new Map(r.targets.map((t) => [t.id, t]));
        this.render(r.svg, r.title);
      },
      (e: unknown) => {
        if (mine === this.generation) this.render(`The language server did not answer: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }

  private onMessage(m: unknown): void {
    if (!m || typeof m !== 'object') return;
    const msg = m as { type?: unknown; id?: unknown; x?: unknown; y?: unknown };
    if (msg.type === 'scroll' && typeof msg.x === 'number' && typeof msg.y === 'number') this.scroll = { x: msg.x, y: msg.y };
    if (msg.type === 'reveal' && typeof msg.id === 'number') void this.reveal(msg.id);
  }

  private async reveal(id: number): Promise<void> {
    const t = this.targets.get(id);
    if (!t) return;
    const range = new Range(t.range.start.line, t.range.start.character, t.range.end.line, t.range.end.character);
    this.revealing = true;
    try {
      const doc = await workspace.openTextDocument(Uri.parse(t.uri));
      const editor = await window.showTextDocument(doc, { viewColumn: this.source?.column ?? ViewColumn.One, selection: range });
      editor.revealRange(range, TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (e) {
      void window.showErrorMessage(`IOMMU Lens: cannot open ${t.uri}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      // The editor's focus and selection events arrive right after the call returns.
      setTimeout(() => {
        this.revealing = false;
      }, 100);
    }
  }

  /** A new page with a fresh nonce: the SVG (or a message), the theme's colours, the click script. */
  private render(content: string, title?: string): void {
    const key = `${title ?? ''}\n${content}`;
    if (key === this.shown) return;
    this.shown = key;
    this.panel.title = title ? `Address Map: ${title}` : 'Address Map';
    // Web Crypto: in Node's extension host and the browser's alike.
    const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const csp = ["default-src 'none'", `style-src ${this.panel.webview.cspSource} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join(
      '; ',
    );
    // The SVG comes from the server, which escapes every text from the user's files.
    const body = title ? content : `<p class="empty">${escapeHtml(content)}</p>`;
    this.panel.webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { margin: 0; padding: 8px; background: var(--vscode-editor-background); \
color: var(--vscode-editor-foreground); font-family: var(--vscode-font-family); }
  svg .bg { fill: var(--vscode-editor-background); }
  svg .fg { fill: var(--vscode-editor-foreground); }
  svg .break-band { fill: var(--vscode-editorWidget-background); }
  svg [data-target] { cursor: pointer; }
  svg [data-target]:hover rect { stroke: var(--vscode-focusBorder); stroke-width: 2px; }
  .empty { opacity: 0.8; }
</style>
</head>
<body data-scroll-x="${Math.round(this.scroll.x)}" data-scroll-y="${Math.round(this.scroll.y)}">
${body}
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  window.scrollTo(Number(document.body.dataset.scrollX) || 0, Number(document.body.dataset.scrollY) || 0);
  document.addEventListener('click', (e) => {
    const bar = e.target instanceof Element ? e.target.closest('[data-target]') : null;
    if (bar) vscode.postMessage({ type: 'reveal', id: Number(bar.getAttribute('data-target')) });
  });
  let timer;
  window.addEventListener('scroll', () => {
    clearTimeout(timer);
    timer = setTimeout(() => vscode.postMessage({ type: 'scroll', x: window.scrollX, y: window.scrollY }), 100);
  });
</script>
</body>
</html>`;
  }

  private dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.generation++;
    for (const d of this.disposables.splice(0)) d.dispose();
    if (AddressMapView.current === this) AddressMapView.current = undefined;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
