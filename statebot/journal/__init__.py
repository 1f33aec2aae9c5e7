"""Edge: the hash-chained event log (writer, reader, replay)."""
