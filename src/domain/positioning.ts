/** How replicas are positioned on a new source: by GTID, or by binlog file and position. */
export type PositioningMode = 'gtid' | 'file';
