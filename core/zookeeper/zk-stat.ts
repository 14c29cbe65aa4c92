/** A node's metadata, with zxids as bigints so they compare exactly. */
export interface ZkStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly pzxid: bigint;
  /** When the node was created and last modified, in ms since the epoch (the leader's clock). */
  readonly ctime: number;
  readonly mtime: number;
  /** Changes to the data, the children and the ACL: the versions setData, delete and setAcl check. */
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly dataLength: number;
  readonly numChildren: number;
  /** Session id of the owner for an ephemeral node, 0n otherwise. */
  readonly ephemeralOwner: bigint;
}
