import type { Command } from '../command';
import { brokerConfigGetCommand } from './broker-config-get.command';
import { brokerConfigSetCommand } from './broker-config-set.command';
import { clusterStatusCommand } from './cluster-status.command';
import { groupCreateCommand } from './group-create.command';
import { groupDeleteCommand } from './group-delete.command';
import { groupListCommand } from './group-list.command';
import { groupProgressCommand } from './group-progress.command';
import { groupResetOffsetCommand } from './group-reset-offset.command';
import { groupUpdateCommand } from './group-update.command';
import { messageGetCommand } from './message-get.command';
import { messageQueryCommand } from './message-query.command';
import { messageSendCommand } from './message-send.command';
import { messageTailCommand } from './message-tail.command';
import { topicCreateCommand } from './topic-create.command';
import { topicDeleteCommand } from './topic-delete.command';
import { topicListCommand } from './topic-list.command';
import { topicRouteCommand } from './topic-route.command';
import { topicStatsCommand } from './topic-stats.command';
import { topicUpdateCommand } from './topic-update.command';

/** Every verb, in the order `apogee --help` lists them. */
export const COMMANDS: readonly Command[] = [
  topicCreateCommand,
  topicUpdateCommand,
  topicDeleteCommand,
  topicListCommand,
  topicRouteCommand,
  topicStatsCommand,
  groupCreateCommand,
  groupUpdateCommand,
  groupDeleteCommand,
  groupListCommand,
  groupResetOffsetCommand,
  groupProgressCommand,
  messageSendCommand,
  messageTailCommand,
  messageQueryCommand,
  messageGetCommand,
  brokerConfigGetCommand,
  brokerConfigSetCommand,
  clusterStatusCommand,
];
