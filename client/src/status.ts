/**
 * The status-bar item: the language server's state (starting, analysing, ready, failed,
 * stopped) from the client's state and the server's `iommuLens/status` notifications.
 * Shown while an .iommu editor is active; a click opens the server log.
 */
import { MarkdownString, StatusBarAlignment, window, type Disposable, type StatusBarItem } from 'vscode';
import { State, type BaseLanguageClient } from 'vscode-languageclient';
import { STATUS_NOTIFICATION, type StatusParams } from '../../server/src/lsp/protocol';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class StatusItem implements Disposable {
  private readonly item: StatusBarItem;
  private readonly disposables: Disposable[] = [];

  constructor(client: BaseLanguageClient) {
    this.item = window.createStatusBarItem('iommuLens.status', StatusBarAlignment.Left, 10);
    this.item.name = 'IOMMU Lens';
    this.item.command = 'iommuLens.showOutput';
    this.show('$(loading~spin) IOMMU Lens', 'Starting the language server');
    this.disposables.push(
      client.onDidChangeState((e) => {
        if (e.newState === State.Stopped)
          this.show('$(circle-slash) IOMMU Lens', 'The language server has stopped. Run *IOMMU Lens: Restart Language Server*.');
        else if (e.newState === State.Starting) this.show('$(loading~spin) IOMMU Lens', 'Starting the language server');
      }),
      client.onNotification(STATUS_NOTIFICATION, (s: StatusParams) => this.update(s)),
      window.onDidChangeActiveTextEditor(() => this.visibility()),
    );
    this.visibility();
  }

  private update(s: StatusParams): void {
    if (s.state === 'analysing') {
      this.show('$(sync~spin) IOMMU Lens', s.message ?? 'Analysing');
      return;
    }
    if (s.state === 'failed') {
      this.show('$(error) IOMMU Lens', `The analysis failed: ${s.message ?? 'see the log'}. Click to open the log.`);
      return;
    }
    const findings = [
      plural(s.errors, 'error'),
      plural(s.warnings, 'warning'),
      `${s.information} information`,
      plural(s.hints, 'hint'),
    ].join(', ');
    const lines = [`**IOMMU Lens**: ${plural(s.files, 'file')} analysed in ${s.ms} ms`, '', findings];
    if (s.skipped.length) lines.push('', `Checks left out while typing (they run on save): ${s.skipped.join(', ')}`);
    lines.push('', 'Click to open the server log.');
    const icon = s.errors ? '$(error)' : s.warnings ? '$(warning)' : '$(check)';
    this.show(`${icon} IOMMU Lens${s.skipped.length ? ' (typing)' : ''}`, lines.join('\n'));
  }

  private show(text: string, tooltip: string): void {
    this.item.text = text;
    this.item.tooltip = new MarkdownString(tooltip);
    // Screen readers get the tooltip's words, which already name the extension first.
    const words = tooltip.replace(/\*/g, '').replace(/\n+/g, '. ');
    this.item.accessibilityInformation = { label: words.startsWith('IOMMU Lens') ? words : `IOMMU Lens: ${words}` };
  }

  /** Shown while an .iommu file is in the active editor, and while nothing is (a panel has focus). */
  private visibility(): void {
    const doc = window.activeTextEditor?.document;
    if (!doc || doc.languageId === 'iommu') this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.item.dispose();
  }
}
