import { describe, expect, it } from 'vitest';
import { renderProgress } from './progress.js';
import { StatusLine } from './status-line.js';

describe('a progress line', () => {
  it('draws a bar with the count once there is a total', () => {
    expect(
      renderProgress({
        label: 'first sync: reading files',
        done: 3821,
        total: 10102,
        unit: 'files',
        elapsedMs: 12_400,
        frame: 3,
      }),
    ).toBe('[#########---------------] 3,821/10,102 files  first sync: reading files  12s');
    expect(renderProgress({ label: 'x', done: 5, total: 5, elapsedMs: 0, frame: 0 })).toBe(
      '[########################] 5/5  x  0s',
    );
  });

  it('spins while nothing is counted', () => {
    expect(renderProgress({ label: 'starting ZooKeeper', elapsedMs: 3_200, frame: 2 })).toBe(
      '| starting ZooKeeper  3s',
    );
    expect(renderProgress({ label: 'importing', done: 12, unit: 'files', elapsedMs: 0, frame: 0 })).toBe(
      '- importing  12 files  0s',
    );
  });
});

describe('the status line', () => {
  function terminal(columns = 40) {
    let screen = '';
    return {
      columns,
      write: (text: string) => {
        screen += text;
      },
      get screen() {
        return screen;
      },
    };
  }

  it('is lifted off for every write and drawn again below it, so nothing lands inside it', () => {
    const tty = terminal();
    const line = new StatusLine(tty);
    line.show('[###---] 3/6 files');
    line.around(() => tty.write('14:02:07.512 INFO  syncer commit mirrored\n'));
    line.show(undefined);
    line.around(() => tty.write('cairn is running\n'));
    expect(tty.screen).toBe(
      '[###---] 3/6 files' +
        '\r\x1b[2K14:02:07.512 INFO  syncer commit mirrored\n[###---] 3/6 files' +
        '\r\x1b[2Kcairn is running\n',
    );
  });

  it('is cut to the width of the terminal, so a carriage return can erase it', () => {
    const tty = terminal(12);
    new StatusLine(tty).show('a line longer than twelve columns');
    expect(tty.screen).toBe('a line long');
  });
});
