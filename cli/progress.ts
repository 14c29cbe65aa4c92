import type { CommandIo } from './io.js';

/** What a progress line shows at one instant. */
export interface ProgressView {
  /** What is being done: "starting ZooKeeper", "first sync: reading files". */
  readonly label: string;
  /** Units done and expected; with both, a bar is drawn. */
  readonly done?: number;
  readonly total?: number;
  /** What is counted, in the plural ("files"). */
  readonly unit?: string;
  readonly elapsedMs: number;
  /** Advances the spinner. */
  readonly frame: number;
}

const SPINNER = ['-', '\\', '|', '/'];
const BAR_WIDTH = 24;

/**
 * One line of progress, ASCII only (any terminal shows it):
 *   `- starting ZooKeeper  3s`
 *   `[#########---------------] 3,821/10,102 files  first sync: reading files  12s`
 */
export function renderProgress(view: ProgressView): string {
  const seconds = `${Math.floor(view.elapsedMs / 1000)}s`;
  const { done, total } = view;
  if (done === undefined || total === undefined || total <= 0) {
    const count =
      done === undefined ? '' : `  ${done.toLocaleString('en-US')}${view.unit ? ` ${view.unit}` : ''}`;
    return `${SPINNER[view.frame % SPINNER.length]} ${view.label}${count}  ${seconds}`;
  }
  const ratio = Math.min(Math.max(done / total, 0), 1);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const count =
    view.unit === '%'
      ? `${Math.round(ratio * 100)}%`
      : `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${view.unit ? ` ${view.unit}` : ''}`;
  return `${bar} ${count}  ${view.label}  ${seconds}`;
}

/** How often the spinner and the elapsed time move while nothing is counted. */
const REDRAW_MS = 150;
/** The least time between two drawings caused by counting. */
const THROTTLE_MS = 50;

/**
 * Long work shown on a terminal's status line: a spinner with the elapsed time, then a bar once
 * there is something to count. Where stderr is not a terminal it shows nothing (the logs say
 * what happened).
 */
export class Progress {
  readonly #io: CommandIo;
  readonly #started = Date.now();
  #view: Omit<ProgressView, 'elapsedMs' | 'frame'>;
  #frame = 0;
  #drawnAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(io: CommandIo, label: string, unit?: string) {
    this.#io = io;
    this.#view = { label, ...(unit ? { unit } : {}) };
    if (!io.status) return;
    this.#timer = setInterval(() => {
      this.#frame++;
      this.#draw();
    }, REDRAW_MS);
    // Progress never keeps the process alive.
    this.#timer.unref();
    this.#draw();
  }

  /** Changes what is shown: a new label, or a count. Counting every file redraws at most every 50 ms. */
  update(change: { label?: string; done?: number | undefined; total?: number | undefined }): void {
    const relabelled = change.label !== undefined && change.label !== this.#view.label;
    this.#view = { ...this.#view, ...change };
    if (relabelled || Date.now() - this.#drawnAt >= THROTTLE_MS) this.#draw();
  }

  /** Removes the line. */
  end(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#io.status?.(undefined);
  }

  #draw(): void {
    if (!this.#timer) return;
    this.#drawnAt = Date.now();
    this.#io.status?.(
      renderProgress({ ...this.#view, elapsedMs: Date.now() - this.#started, frame: this.#frame }),
    );
  }
}
