/**
 * The daemon: one node of the cluster in this process, with its listeners (node-to-node, client
 * and, unless `--resp-port 0`, the Redis protocol), and the graceful shutdown that leaves the cluster, hands partitions off and drains
 * clients. Edge code: it owns sockets, timers and the process's time budget; the node itself is
 * the deterministic core, built in node-host.ts.
 */
import { createServer } from 'node:net';
import { startClientServer, type ClientServer } from '../server/index.ts';
import { isLoopbackHost } from '../security/origins.ts';
import { startRespServer, type RespServer } from '../resp/server.ts';
import { AdmissionGate } from '../replication/admission-gate.ts';
import { rateLimits } from '../security/limits.ts';
import { createClusterView } from '../resp/cluster-view.ts';
import { PROFILES } from '../gossip/config.ts';
import { realClock, RealTimers, realRandom } from '../runtime/real.ts';
import { WsTransport } from '../transport/ws-transport.ts';
import { wallUsOf, type Env, type Logger } from '../runtime/env.ts';
import type { DaemonConfig } from './config.ts';
import { ExitStatus, listenError, StartupError } from './errors.ts';
import { GossipConfigError } from '../gossip/errors.ts';
import { clientTlsOptions, serverTlsOptions, TlsFileError, TlsReloader } from '../security/tls.ts';
import { createHostedNode, type HostedNode } from './node-host.ts';
import { ensureDataDir, removeUnusedDataDir } from './data-dir.ts';
import { lockDirectory, type DirLock } from './dir-lock.ts';
import { openGossipKeyring, secureTransport } from './gossip-keyring.ts';
import { bracketed, hostPort, SeedList, systemResolver, type HostResolver } from './seeds.ts';
import { nodeStatus } from './status.ts';
import { openAclStore } from './acl-file.ts';
import { applyDefaultPasswordAtStart, defaultPasswordAfterPeer } from './default-password.ts';
import { KnownPeers, KNOWN_PEERS_SAVE_INTERVAL_MS } from './known-peers.ts';
import { ClockCeilingFile } from './clock-ceiling-file.ts';
import { AuthGuard } from '../security/auth-guard.ts';
import { PlainTransport } from '../security/sealing-transport.ts';
import { startAdminServer, type AdminServer } from '../admin/server.ts';
import { nodeRoutes } from '../admin/status-routes.ts';
import { hotKeysRoutes } from '../admin/hot-keys-route.ts';
import { clusterViews } from './cluster-views.ts';
import { dashboardRoutes } from '../admin/dashboard.ts';
import { metricsRoutes } from '../admin/metrics.ts';
import { nodeMetrics } from './metrics-source.ts';
import { statsRoutes } from '../admin/stats-routes.ts';
import type { NodeStatus } from '../protocol/index.ts';
import type { SpillSummary } from '../replication/replica-host.ts';

/**
 * How long, at most, clients get to finish in-flight requests once a stop begins (2 s). New
 * requests are answered `shutting-down` at once, and the SDK resends them to another node; a
 * Redis connection reads no more commands and closes once those it started are answered.
 */
export const CLIENT_DRAIN_GRACE_MS = 2000;

/** While a stop is under way, how often it logs what it is still waiting for. */
const STOP_PROGRESS_INTERVAL_MS = 2000;

/** How often the daemon checks whether its node was refused by the cluster it joins. */
const REFUSAL_CHECK_INTERVAL_MS = 500;

export interface DaemonOptions {
  config: DaemonConfig;
  log: Logger;
  /** Software version reported by `status`. */
  version: string;
  /** Resolves the DNS names among the seeds. Default: the system's resolver. */
  resolver?: HostResolver;
}

export interface Daemon {
  readonly config: DaemonConfig;
  /** `host:port` of the client endpoint. */
  readonly clientAddress: string;
  /** `host:port` of the node-to-node endpoint (what seeds name). */
  readonly peerAddress: string;
  /** `host:port` of the Redis protocol endpoint, or null when `--resp-port 0` turned it off. */
  readonly respAddress: string | null;
  /** `host:port` of the HTTP admin endpoint (src/admin), or null when `--admin-port 0` turned it off. */
  readonly adminAddress: string | null;
  readonly node: HostedNode;
  /**
   * Leaves the cluster, hands off partitions and drains clients, then closes everything. Resolves
   * with the exit status: 0 when all of it finished within `--shutdown-timeout`, else 1 (the node
   * is stopped either way). Calling it again returns the same promise.
   */
  shutdown(reason: string): Promise<number>;
  /** Resolves with the reason if the node finds it can never join its seeds' cluster (see HostedNode.refusal). */
  readonly refused: Promise<string>;
}

/**
 * What a start that fails part-way must give back (listeners, timers, the node, the disk tier),
 * each step added once the thing it closes exists, and run in the reverse order.
 */
type StartUndo = (() => void | Promise<void>)[];

/**
 * Starts a node; rejects with StartupError (exit status 2) when a port cannot be bound or the
 * node cannot start (a disk tier the filesystem cannot hold, a bad certificate...). A failed start
 * has closed every port, timer and lock it took, so the process can exit.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { dataDir, disk } = options.config;
  // Each directory the node writes: its path, the flag that chose it, the first directory made for it.
  const dirs: { dir: string; flag: '--data-dir' | '--disk-dir'; created: string | null }[] = [];
  const locks: DirLock[] = [];
  const release = (): void => {
    for (const lock of locks.splice(0)) lock.release();
  };
  const undo: StartUndo = [];
  try {
    const wanted: [string, '--data-dir' | '--disk-dir'][] = [[dataDir, '--data-dir']];
    if (disk !== null && disk.dir !== dataDir) wanted.push([disk.dir, '--disk-dir']);
    for (const [dir, flag] of wanted) {
      dirs.push({ dir, flag, created: ensureDataDir(dir, flag) });
      const onWait = (holder: { host: string; pid: number }, waitMs: number) =>
        options.log.warn({ dir, holder }, `${dir} is locked by pid ${holder.pid} on host ${holder.host}, which this node cannot ask; waiting ${waitMs} ms to see whether it still refreshes the lock`);
      locks.push(await lockDirectory(dir, flag, { onWait }));
    }
    return await startNodeIn(options, release, undo);
  } catch (error) {
    // A failed start (a port in use, a bad certificate, a disk tier too large) leaves no listener,
    // no timer, no lock and no empty directory behind.
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (closeError) {
        options.log.warn({ err: closeError }, 'closing after a failed start');
      }
    }
    release();
    for (const { dir, created } of dirs.reverse()) removeUnusedDataDir(dir, created);
    throw error;
  }
}

/**
 * startDaemon once its directories exist and are locked; `release` gives the locks back once the
 * node has stopped. Whatever it opens, it adds to `undo` at once, for startDaemon to close should
 * a later step throw.
 */
async function startNodeIn(options: DaemonOptions, release: () => void, undo: StartUndo): Promise<Daemon> {
  const { config, log } = options;
  const startedAt = performance.now();
  log.info({ dataDir: config.dataDir, atRestKeys: config.atRestKeySource }, 'using data directory');
  const keyring = openGossipKeyring(config, log);
  // Users and ACLs: kept in the data directory, spread to every member (src/security/acl-sync.ts).
  const acl = openAclStore(config.dataDir, config.atRestKeys, config.name, () => realClock.wallMs(), log);
  const startedAtWallMs = realClock.wallMs();
  if (config.defaultPassword !== null) applyDefaultPasswordAtStart(acl, config.defaultPassword, log);
  const authGuard = new AuthGuard(() => realClock.monoMs());
  // A --host this machine cannot listen on (a name that does not resolve, another machine's
  // address) is reported first: no password would make it work.
  await probePort(config.host, 0, 'client', '--port');
  if (!isLoopbackHost(config.host) && !config.insecure && !acl.requiresAuth) {
    throw new StartupError(
      `refusing to listen on ${config.host}, which is not a loopback address, while the default user needs no password (it is on and nopass: anyone who reaches the ports may do anything). Give the default user a password with --default-password-file FILE (a file holding it; or SHOAL_DEFAULT_PASSWORD_FILE), or pass --insecure to run like this anyway`,
    );
  }
  // Checked before anything binds for long so that a busy client port fails before this node joins anybody's cluster.
  await probePort(config.host, config.port, 'client', '--port');
  if (config.respPort !== 0) await probePort(config.host, config.respPort, 'RESP', '--resp-port');
  if (config.adminPort !== 0) await probePort(config.host, config.adminPort, 'admin', '--admin-port');
  const tls = loadTls(config, log);
  const tlsFor = (listener: 'client' | 'resp' | 'peer') => (tls !== null && tls.has(listener) ? serverTlsOptions(tls.material(listener), tls.settings(listener).clientAuth) : null);

  // Names among the seeds are looked up once before the node starts, so its first join attempt
  // (and whether it founds a cluster: no address but its own) sees what DNS has now.
  const knownPeers = new KnownPeers(config.dataDir, config.atRestKeys, log);
  const remembered = knownPeers.load();
  if (remembered.length > 0) {
    log.info({ peers: remembered, path: knownPeers.path }, `rejoining through the members this node last knew, as well as its seeds: ${remembered.join(', ')} (to found a new cluster instead, delete ${knownPeers.path})`);
  }
  const seeds = new SeedList(config.seeds, options.resolver ?? systemResolver, log, { host: config.advertiseHost, port: config.peerPort }, remembered);
  await seeds.refresh();

  let transport: WsTransport;
  try {
    const peerTls = tlsFor('peer');
    transport = await WsTransport.listen({
      host: config.host,
      port: config.peerPort,
      advertiseHost: bracketed(config.advertiseHost),
      log,
      tls: peerTls === null ? null : { server: peerTls, client: () => clientTlsOptions(tls!.material('peer')) },
    });
  } catch (error) {
    throw listenError(error, 'peer', config.host, config.peerPort, '--peer-port');
  }
  undo.push(() => transport.close());
  const clientAddress = hostPort(config.advertiseHost, config.port);
  const timers = new RealTimers();
  undo.push(() => timers.cancelAll());
  let hosted: HostedNode | null = null;
  // With a keyring, the node's whole node-to-node traffic (gossip and replication) is sealed.
  const gossip =
    keyring === null
      ? null
      : secureTransport(transport, keyring, {
          config,
          address: transport.address,
          log,
          timers,
          nowMs: () => realClock.monoMs(),
          peers: () => (hosted?.clusterMembers() ?? []).filter((m) => m.state !== 'left').map((m) => m.peerAddress),
        });
  // Without one, sealed bytes can only be keyed members' notices: kept to say why none answers.
  const plain = gossip === null ? new PlainTransport(transport, () => realClock.monoMs()) : null;
  const securityHint = (): string | null => gossip?.hint() ?? plain?.hint() ?? null;
  // Versions never go back across a restart: the clock starts above the ceiling the last run persisted (src/replication/clock-ceiling.ts).
  const clockCeiling = new ClockCeilingFile(config.dataDir, config.atRestKeys, log);
  const env: Env & { timers: RealTimers } = { address: transport.address, clock: realClock, timers, random: realRandom, transport: gossip?.transport ?? plain ?? transport, log, clockCeiling };
  let node: HostedNode;
  try {
    node = createHostedNode(env, config, clientAddress, transport, seeds, acl, config.defaultPassword === null ? undefined : defaultPasswordAfterPeer(acl, config.defaultPassword, log, startedAtWallMs));
  } catch (error) {
    // Gossip's limits on what a member publishes (its name, its addresses in its metadata): the operator's to fix.
    if (error instanceof GossipConfigError) throw new StartupError(`${error.message}; check --name and --advertise-host`, { cause: error });
    throw error;
  }
  hosted = node;
  undo.push(() => node.closeDisk(), () => node.stop());
  // While alone (pods of a StatefulSet starting in any order), look the seed names up again.
  const stopSeedWatch = seeds.watch(() => !node.joined() || node.alone());
  // Saved only once joined: a node still waiting for its seeds knows nobody, and must not forget whom it waits for.
  const peersTimer = setInterval(() => {
    if (node.joined()) knownPeers.update(node.clusterMembers(), config.name);
  }, KNOWN_PEERS_SAVE_INTERVAL_MS).unref();
  undo.push(stopSeedWatch, () => clearInterval(peersTimer));

  let stopping: Promise<number> | null = null;
  const status = (): NodeStatus =>
    nodeStatus({
      node: config.name,
      cluster: config.cluster,
      zone: config.zone,
      version: options.version,
      readQuorum: config.readQuorum,
      writeQuorum: config.writeQuorum,
      uptimeMs: () => performance.now() - startedAt,
      view: () => {
        const waiting = node.waitingFor();
        return { ...node.status(), waitingFor: waiting === null ? null : (securityHint() ?? waiting) };
      },
      refused: () => (gossip === null ? node.refusedPeers() : [...node.refusedPeers(), ...gossip.refused(new Map(node.clusterMembers().map((m) => [m.peerAddress, m.name])))]),
      clientConnections: () => server.connectionCount,
      requests: () => node.requests(),
      catchUp: () => node.catchUp(),
      analytics: () => node.analytics(),
    });

  // One admission gate for the node's client calls, SDK and RESP together (src/replication/admission-gate.ts).
  const admission = new AdmissionGate({ nowMs: () => env.clock.monoMs() });
  // Connections each listener (SDK, RESP, admin) holds, in all and per address; counted per listener (the admin port's total is --admin-max-clients).
  const connectionLimits = { maxConnections: config.limits.maxClients, maxPerAddress: config.limits.maxClientsPerAddress };
  // Which web pages may use the node: Origin on the client port, Host on the admin port (security/origins.ts).
  const origins = { allowed: config.allowedOrigins, ownHosts: [config.host, config.advertiseHost] };
  let server: ClientServer;
  try {
    server = await startClientServer({
      host: config.host,
      port: config.port,
      kv: node.kv,
      // The SDK's read-modify-writes (incr, append...) run on the keys' primary, as RESP's do.
      rmw: node.keyspace,
      admission,
      nodeName: config.name,
      log,
      // Limits (options.ts; docs/SECURITY.md): what one client can make the node hold or do.
      limits: { maxKeyBytes: config.limits.maxKeyBytes, maxValueBytes: config.limits.maxValueBytes, maxFrameBytes: config.limits.maxFrameBytes, maxBatchRequests: config.limits.maxBatchRequests },
      maxInFlightPerConnection: config.limits.maxInFlight,
      unreadRepliesLimitBytes: config.limits.maxUnreadReplyBytes,
      maxConnections: connectionLimits.maxConnections,
      maxConnectionsPerAddress: connectionLimits.maxPerAddress,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      rateLimit: rateLimits(config.limits.maxRequestRate, config.limits.maxUserRequestRate),
      acl,
      authGuard,
      tls: tlsFor('client'),
      origins,
      status,
      hotKeys: { report: (count) => node.hotKeys(count), subscribe: (listener) => node.onHotKeyAlert(listener) },
      invalidations: { subscribe: (deliver) => node.shoal.invalidations.subscribe(deliver) },
      drain: (action) => node.drain(action),
    });
  } catch (error) {
    throw listenError(error, 'client', config.host, config.port, '--port');
  }
  undo.push(() => server.close({ graceMs: 0 }));

  let resp: RespServer | null = null;
  if (config.respPort !== 0) {
    try {
      resp = await startRespServer({
        host: config.host,
        port: config.respPort,
        keyspace: node.keyspace,
        admission,
        // CLUSTER commands and MOVED (redirect.ts) read the node's members and ring through it.
        cluster: createClusterView({
          self: config.name,
          nowMs: () => env.clock.monoMs(),
          topology: () => node.keyspace.topology(),
          members: () => node.clusterMembers(),
          onTopologyChange: (listener) => node.onTopologyChange(listener),
          gossipRoundMs: PROFILES[config.gossipProfile].probeIntervalMs,
        }),
        log,
        limits: { maxArgumentBytes: config.limits.maxValueBytes, maxArguments: config.limits.respMaxArguments, maxCommandsInFlight: config.limits.maxPipeline, maxPendingReplyBytes: config.limits.respMaxUnreadReplyBytes, outputBufferLimitBytes: config.limits.respOutputBufferLimitBytes, maxValueBytes: config.limits.maxValueBytes },
        connectionLimits,
        idleTimeoutMs: config.limits.idleTimeoutMs,
        rateLimit: rateLimits(config.limits.maxRequestRate, config.limits.maxUserRequestRate),
        acl,
        authGuard,
        tls: tlsFor('resp'),
        nowMs: () => env.clock.wallMs(),
        nowUs: () => wallUsOf(env.clock),
        hotKeys: (count) => node.hotKeys(count),
        keyFrequency: (key) => node.shoal.keyFrequency(key),
        evictionPolicy: node.evictionPolicy,
        memoryBudget: node.memoryBudget,
        storeEvictions: () => node.shoal.store.stats().evictions.size,
        storeMemory: () => {
          const store = node.shoal.store.stats();
          return { entries: store.entries, bytes: store.bytes, maxMemory: store.maxMemory, evicted: store.evictions.size, refusedOverBudget: store.refusedOverBudget ?? 0, refusedTooLarge: store.refusedTooLarge };
        },
        invalidations: { source: { subscribe: (deliver, options) => node.shoal.invalidations.subscribe(deliver, options) }, holds: (p) => node.shoal.heldPartitions().has(p) },
        describe: () => ({ node: config.name, cluster: config.cluster, zone: config.zone, version: options.version, client_port: config.port, peer_port: config.peerPort, acl_users: acl.names().length, auth_failures: authGuard.failures, auth_refused: authGuard.refused }),
      });
    } catch (error) {
      throw listenError(error, 'RESP', config.host, config.respPort, '--resp-port');
    }
    undo.push(() => resp?.close());
  }
  // --slow-log-threshold is also where the RESP SLOWLOG starts (CONFIG SET slowlog-log-slower-than changes it).
  if (resp !== null) resp.state.setSlowlogThreshold(config.slowLogThresholdMs === null ? -1 : Math.round(config.slowLogThresholdMs * 1000));
  const respAddress = resp === null ? null : hostPort(config.advertiseHost, resp.port);

  let admin: AdminServer | null = null;
  let dashboard: ReturnType<typeof dashboardRoutes> | null = null;
  // /hotkeys, /stats and the dashboard read the other members through one helper; this node answers them too.
  const views = clusterViews(node, () => dashboard?.sample() ?? null);
  // Prometheus metrics (/metrics on the admin port): collected only when the port is on.
  const metrics = config.adminPort === 0 ? null : nodeMetrics({ node, server: () => server, resp: () => resp, admission, authGuard });
  undo.push(() => views.close(), () => metrics?.close(), () => dashboard?.close());
  if (config.adminPort !== 0) {
    try {
      admin = await startAdminServer({
        host: config.host,
        port: config.adminPort,
        // The admin port shares the client port's certificate and client-auth setting.
        tls: tlsFor('client'),
        log,
        acl,
        authGuard,
        origins,
        // Its own cap: a handful of operators' tools use it, and 10,000 idle connections held some 90 MB.
        connectionLimits: { ...connectionLimits, maxConnections: config.limits.adminMaxClients },
        routes: [
          ...nodeRoutes({ status, topology: () => node.keyspace.topology(), draining: () => stopping !== null }),
          ...hotKeysRoutes(views.hotKeys),
          ...metricsRoutes(metrics!),
          ...statsRoutes({ node: config.name, analytics: () => node.analytics(), cluster: () => views.stats() }),
          // The live dashboard at / (src/admin/dashboard.ts); hot-key alerts join its events.
          ...(dashboard = dashboardRoutes({
            version: options.version,
            node: () => node.status(),
            topology: () => node.keyspace.topology(),
            hotKeys: (n) => node.hotKeys(n).keys.map((k) => ({ key: k.key, rate: k.rate })),
            clientConnections: () => server.connectionCount,
            uptimeMs: () => performance.now() - startedAt,
            // p50/p99 from the metrics' request histogram: one measurement for both.
            latency: () => metrics!.timer.latencyCounts(),
            peerSamples: () => views.peerSamples(),
            subscribeAlerts: (listener) =>
              node.onHotKeyAlert((a) => listener({ kind: a.cleared ? 'hot-key-cleared' : 'hot-key', message: `${a.cleared ? 'cooled down' : 'hot key'} "${a.key}" on ${a.node}: ${Math.round(a.rate)} ops/s (threshold ${a.threshold})` })),
          })),
        ],
      });
    } catch (error) {
      throw listenError(error, 'admin', config.host, config.adminPort, '--admin-port');
    }
    undo.push(() => admin?.close());
  }
  const adminAddress = admin === null ? null : hostPort(config.advertiseHost, admin.port);
  // Certificates are reloaded on SIGHUP and when their files change, without dropping connections.
  let stopTlsReload = (): void => {};
  if (tls !== null) {
    if (transport.secureServer !== null) tls.attach('peer', transport.secureServer);
    if (server.setSecureContext) tls.attach('client', { setSecureContext: server.setSecureContext });
    if (resp?.setSecureContext) tls.attach('resp', { setSecureContext: resp.setSecureContext });
    if (admin?.setSecureContext) tls.attach('client', { setSecureContext: admin.setSecureContext });
    tls.watch();
    const onHangup = (): void => void tls.reload('SIGHUP');
    process.on('SIGHUP', onHangup);
    stopTlsReload = () => {
      process.off('SIGHUP', onHangup);
      tls.close();
    };
  }
  undo.push(() => stopTlsReload());
  const scheme = config.tls.client === null ? 'ws' : 'wss';

  log.info(
    { node: config.name, clientAddress, peerAddress: transport.address, respAddress, adminAddress, seeds: config.seeds, zone: config.zone, replicas: config.replicas },
    `node ${config.name} ready: clients ${scheme}://${clientAddress}/shoal, peers ${transport.address}` +
      (respAddress === null ? '' : `, redis ${respAddress}${config.tls.resp === null ? '' : ' (TLS)'}`) +
      (adminAddress === null ? '' : `, admin ${config.tls.client === null ? 'http' : 'https'}://${adminAddress}/`),
  );

  // Edge code: a plain interval watches for a refusal the node cannot recover from.
  let refusalWatch: NodeJS.Timeout | undefined;
  const refused = new Promise<string>((resolve) => {
    let lastHint: string | null = null;
    refusalWatch = setInterval(() => {
      const hint = securityHint();
      if (hint !== null && hint !== lastHint) log.warn({}, hint);
      lastHint = hint;
      const reason = node.refusal();
      if (reason === null) return;
      clearInterval(refusalWatch);
      log.error({ reason }, 'refused by the cluster');
      resolve(reason);
    }, REFUSAL_CHECK_INTERVAL_MS);
  });

  const stop = async (reason: string): Promise<number> => {
    clearInterval(refusalWatch);
    stopSeedWatch();
    clearInterval(peersTimer);
    if (node.joined()) knownPeers.update(node.clusterMembers(), config.name);
    stopTlsReload();
    // --stop-mode restart: no leave, so the partitions stay placed here and the disk tier keeps them for the restart.
    // Nor does the only live member holding data leave when it has a disk tier: nobody would take
    // its partitions, and a leave drops them from the tier where a stop keeps them for its next
    // start. (Without a tier nothing outlives the process either way, so it leaves as before.)
    const keepsData = config.stopMode === 'leave' && config.disk !== null && node.onlyLiveDataHolder();
    const leave = config.stopMode === 'leave' && !keepsData;
    if (keepsData) {
      log.warn(
        { event: 'stop-keeps-data' },
        "stopping without leaving, although --stop-mode is leave: no other live member holds data, so a leave would drop every value from the disk tier; the values in memory are written to it too, and this node reads them back at its next start (to discard them, delete the node's data and disk directories after it stopped)",
      );
    }
    log.info(
      { reason, timeoutMs: config.shutdownTimeoutMs, stopMode: config.stopMode },
      leave ? 'stopping: leaving the cluster, handing off partitions, draining clients' : 'stopping for a restart: draining clients, passing stand-in hints on, keeping partitions and the disk tier, not leaving',
    );
    const stopDeadlineMs = env.clock.monoMs() + config.shutdownTimeoutMs;
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (deadlineTimer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs)));
    let left = !leave;
    let drained = false;
    const graceMs = Math.min(CLIENT_DRAIN_GRACE_MS, config.shutdownTimeoutMs);
    let standInsPassed = leave;
    const graceful = Promise.all([
      leave
        ? new Promise<void>((resolve) => node.leave(resolve)).then(() => (left = true))
        : new Promise<void>((resolve) => node.passStandInHintsOn(resolve)).then(() => (standInsPassed = true)),
      // Drain, not close: the port keeps answering /healthz (200) and /readyz (503) during the leave.
      // Redis clients are drained too, rather than kept to the end and cut off: a command in flight
      // then would end without a reply, the client unable to tell whether it ran.
      Promise.all([server.drain({ graceMs }), resp?.drain({ graceMs })]).then(() => (drained = true)),
    ]).then(() => 'done' as const);
    // What the stop still waits for, read from the node before it is stopped.
    const waiting = () => {
      const progress = left ? null : node.leaveProgress();
      const parts = progress && progress.waitingFor !== 'nothing' ? [progress.waitingFor] : [];
      if (!standInsPassed) {
        const standIns = node.standInHints();
        // None left: the pass waits for its 'stopping' flag to spread (ShoalNode.passStandInHintsOn).
        parts.push(standIns > 0 ? `${standIns} stand-in hint${standIns === 1 ? '' : 's'} to deliver or pass on` : 'the other members to hear that this node stops (no stand-in writes for it)');
      }
      const connections = server.connectionCount + (resp?.connectionCount ?? 0);
      if (!drained) parts.push(`${connections} client connection${connections === 1 ? '' : 's'} to drain`);
      return { waitingFor: parts.length === 0 ? 'nothing' : parts.join(', '), hints: progress?.hints ?? {}, partitionsToHandOff: progress?.partitionsToHandOff ?? 0, keysToHandOff: progress?.keysToHandOff ?? 0 };
    };
    const progressLog = setInterval(() => {
      const w = waiting();
      log.info(w, `stopping: waiting for ${w.waitingFor}`);
    }, STOP_PROGRESS_INTERVAL_MS);
    const outcome = await Promise.race([graceful, deadline]);
    clearTimeout(deadlineTimer);
    clearInterval(progressLog);
    const unfinished = outcome === 'timeout' ? waiting() : null;
    node.stop({ leave });
    if (!leave) logSpill(await node.spillToDisk(Math.max(0, stopDeadlineMs - env.clock.monoMs())));
    dashboard?.close();
    views.close();
    metrics?.close();
    await Promise.all([server.close({ graceMs: 0 }), transport.close(), resp?.close(), admin?.close(), node.closeDisk()]);
    env.timers.cancelAll();
    release();
    if (unfinished) {
      log.error(
        { timeoutMs: config.shutdownTimeoutMs, ...unfinished, handoff: node.progress() },
        `graceful stop did not finish within ${config.shutdownTimeoutMs} ms; stopped anyway. It was waiting for ${unfinished.waitingFor}`,
      );
      return ExitStatus.failed;
    }
    log.info({}, 'stopped');
    return ExitStatus.ok;
  };

  /** What the spill of a stop for a restart wrote to the disk tier, and what it could not (ReplicaHost.spillToDisk). */
  const logSpill = (spill: SpillSummary | null): void => {
    if (spill === null) return;
    const line = `stopping: wrote ${spill.values} values (${spill.bytes} bytes) still in memory to the disk tier`;
    if (spill.reason === null) return log.info({ event: 'disk-spill', ...spill }, line);
    const why = spill.reason === 'room' ? 'the tier has no more room (a larger --disk-size keeps more)' : 'the --shutdown-timeout was reached (a longer one keeps more)';
    log.warn({ event: 'disk-spill', ...spill }, `${line}; ${spill.left} entries were not written, ${why}: they come back from other replicas, or not at all with N=1`);
  };

  return {
    config,
    clientAddress,
    peerAddress: transport.address,
    respAddress,
    adminAddress,
    node,
    shutdown: (reason) => (stopping ??= stop(reason)),
    refused,
  };
}

/** Every listener's TLS files, loaded and checked; null when TLS is off everywhere. A bad file stops the start (status 2). */
function loadTls(config: DaemonConfig, log: Logger): TlsReloader | null {
  if (config.tls.client === null && config.tls.resp === null && config.tls.peer === null) return null;
  let tls: TlsReloader;
  try {
    tls = new TlsReloader(config.tls, log);
  } catch (error) {
    if (error instanceof TlsFileError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
  log.info({ tls: tls.describe() }, 'TLS on');
  return tls;
}

/** Binds and releases a port, so that "in use" is reported before anything else happens. */
async function probePort(host: string, port: number, what: string, flag: string): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw listenError(error, what, host, port, flag);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

