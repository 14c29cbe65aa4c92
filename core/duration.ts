import { CairnError } from './errors.js';

/** A setting (a flag, an environment variable, an option) whose value cannot be used; the message names it. */
export class SettingError extends CairnError {
  /** The flag it concerns, e.g. `--zk`. */
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('INVALID_SETTING', message);
    this.setting = setting;
  }
}

/** "500ms", "30s", "5m", "1h" or a number of milliseconds; `setting` names it in the error. */
export function parseDuration(setting: string, value: string, minimumMs = 10): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match)
    throw new SettingError(setting, `${setting} "${value}" is not a duration: use e.g. 500ms, 30s or 5m`);
  const amount = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(amount * unit);
  if (ms < minimumMs)
    throw new SettingError(setting, `${setting} "${value}" is too short: at least ${minimumMs}ms`);
  return ms;
}
