/**
 * The server's log, filtered at `iommuLens.logLevel`. It goes through LSP's
 * window/logMessage, which VS Code shows in the extension's output channel and other
 * editors in their LSP log.
 */
import type { RemoteConsole } from 'vscode-languageserver';
import { LOG_LEVELS, type LogLevel } from './settings';

export class Log {
  constructor(
    private readonly console: RemoteConsole,
    public level: LogLevel = 'info',
  ) {}

  private on(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.level);
  }

  error(message: string): void {
    if (this.on('error')) this.console.error(message);
  }
  warn(message: string): void {
    if (this.on('warn')) this.console.warn(message);
  }
  info(message: string): void {
    if (this.on('info')) this.console.info(message);
  }
  /**
   * `message` is a function so the debug text is only built when it is logged. Sent as a
   * plain log message, not LSP's Debug type: VS Code's log channels hide Debug messages at
   * their own default level, and this level is already the user's choice.
   */
  debug(message: () => string): void {
    if (this.on('debug')) this.console.log(message());
  }
}
