// Every scenario, in the order they run.
import type { Scenario } from '../harness.js';
import { clusterFanout } from './cluster-fanout.js';
import { clusterKill } from './cluster-kill.js';
import { clusterMemory } from './cluster-memory.js';
import { clusterViewers } from './cluster-viewers.js';
import { connect } from './connect-storm.js';
import { fanout } from './fan-out.js';
import { idle } from './idle-memory.js';
import { churn } from './presence-churn.js';
import { slow } from './slow-readers.js';
import { subscribe } from './subscribe-storm.js';

export const SCENARIOS: readonly Scenario[] = [
  connect,
  subscribe,
  churn,
  fanout,
  idle,
  slow,
  clusterFanout,
  clusterViewers,
  clusterMemory,
  clusterKill,
];
