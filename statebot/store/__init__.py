"""Edge: state files written atomically (checkpoints, learning state) and the folder lock."""
