/**
 * How many turns the event loop took (setImmediate callbacks run) while `work` ran: 0 when it never
 * let go. What a test of work that hands the loop back counts, with a clock by which every slice is
 * spent, and without.
 */
export async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  counting = false;
  return turns;
}
