import type { RawEndpointSettings } from '../core/index.js';

/** The ZooKeeper flags every command that reads ZooKeeper takes. */
export interface EndpointFlags {
  readonly zk?: string;
  readonly root?: string;
  /** `--zk-auth-file`: credentials from a file, so that no password is in argv. */
  readonly zkAuthFile?: string;
}

/** Flags as the endpoint's settings (the environment fills what they leave out). */
export function endpointSettings(flags: EndpointFlags): RawEndpointSettings {
  return {
    ...(flags.zk !== undefined ? { zk: flags.zk } : {}),
    ...(flags.root !== undefined ? { root: flags.root } : {}),
    ...(flags.zkAuthFile !== undefined ? { authFile: flags.zkAuthFile } : {}),
  };
}
