import type { Command } from '../command';
import { clusterStatusCommand } from './cluster-status.command';
import { groupCreateCommand } from './group-create.command';
import { groupProgressCommand } from './group-progress.command';
import { groupResetOffsetCommand } from './group-reset-offset.command';
import { messageGetCommand } from './message-get.command';
import { messageQueryCommand } from './message-query.command';
import { topicCreateCommand } from './topic-create.command';
import { topicListCommand } from './topic-list.command';
import { topicRouteCommand } from './topic-route.command';

/** Every verb, in the order `apogee --help` lists them. */
export const COMMANDS: readonly Command[] = [
  topicCreateCommand,
  topicListCommand,
  topicRouteCommand,
  groupCreateCommand,
  groupResetOffsetCommand,
  groupProgressCommand,
  messageQueryCommand,
  messageGetCommand,
  clusterStatusCommand,
];
