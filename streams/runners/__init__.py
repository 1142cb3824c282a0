"""What every runner (Faust worker, embedded demo, replay) shares: one batch through the
projections, recording rounds, period closes, the read-model sink; and the in-process
runners themselves (`embedded`, `kafka_replay`)."""
