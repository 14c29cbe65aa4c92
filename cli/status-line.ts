/** A terminal stream, as far as a status line needs one. */
export interface TerminalStream {
  write(text: string): unknown;
  readonly columns?: number;
}

/**
 * One transient line at the bottom of a terminal (a progress bar) that everything else written
 * prints above: each write lifts the line off, writes, and draws it again. Log lines and the banner
 * therefore never land in the middle of a bar, nor a bar in the middle of them.
 */
export class StatusLine {
  readonly #terminal: TerminalStream;
  #line: string | undefined;

  constructor(terminal: TerminalStream) {
    this.#terminal = terminal;
  }

  /** Shows `line` in place of the previous one; undefined removes it. */
  show(line: string | undefined): void {
    this.#erase();
    // A line that wraps could not be erased with a carriage return: cut it to the terminal's width.
    // (A terminal that does not know its size says 0.)
    const width = Math.max((this.#terminal.columns || 80) - 1, 10);
    this.#line = line === undefined ? undefined : [...line].slice(0, width).join('');
    this.#draw();
  }

  /** Runs `write` (output to this terminal or another stream shown on it) beneath the status line. */
  around(write: () => void): void {
    if (this.#line === undefined) {
      write();
      return;
    }
    this.#erase();
    write();
    this.#draw();
  }

  #erase(): void {
    if (this.#line !== undefined) this.#terminal.write('\r\x1b[2K');
  }

  #draw(): void {
    if (this.#line !== undefined) this.#terminal.write(this.#line);
  }
}
