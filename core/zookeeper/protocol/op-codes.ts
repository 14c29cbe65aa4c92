/** Numbers of ZooKeeper's wire protocol (ZooDefs.java, Watcher.java, ClientCnxn.java). */

/** Request types (ZooDefs.OpCode). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  removeWatches: 18,
  /** Several reads in one request, each answered on its own (ZooKeeper 3.6+). */
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  setWatches2: 105,
  addWatch: 106,
  closeSession: -11,
  error: -1,
} as const;

/** Request ids with a fixed meaning; every other request gets the next number of a counter. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** What a watch notification says happened (Watcher.Event.EventType). */
export const EventType = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
} as const;

/** Which watches a removeWatches request removes (Watcher.WatcherType). `any` is all a 3.8 server knows. */
export const WatcherType = {
  children: 1,
  data: 2,
  any: 3,
} as const;

/** AddWatchRequest modes (ZooDefs.AddWatchModes). */
export const AddWatchMode = {
  persistent: 0,
  persistentRecursive: 1,
} as const;

/** CreateRequest flags (CreateMode.java). */
export const CreateFlags = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
} as const;

/** Error numbers the client itself acts on (KeeperException.Code). */
export const ErrorNumber = {
  ok: 0,
  runtimeInconsistency: -2,
  connectionLoss: -4,
  noNode: -101,
  authFailed: -115,
  noWatcher: -121,
} as const;
