/** What a soak process says on stdout, one JSON object per line. */
export type SoakReport =
  /** A client read a new value of the counter. */
  | { readonly seen: number }
  /** A client read a value lower than one it had read before: an acknowledged write was lost. */
  | { readonly regressed: { readonly from: number; readonly to: number } }
  /** The writer's version-checked write of this value was acknowledged. */
  | { readonly ack: number }
  /** The writer stopped, as asked. */
  | { readonly stopped: true };

export const COUNTER_PATH = '/soak/counter';

export function report(line: SoakReport): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
