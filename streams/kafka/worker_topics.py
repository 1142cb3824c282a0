"""The topics faust declares as a worker starts, named as faust names them.

A worker creates them itself before faust starts (`streams.kafka.io.ensure_topics`), so
they are in the broker's metadata when the consumer group is first joined: a topic faust
creates a moment before the join can be missing from the metadata the group's leader
assigns with, and faust then leaves it out ("Ignoring missing topic") until a later
rebalance with fresher metadata. For the state table's changelog that meant a worker
holding no state partition at all (seen on a loaded machine).
"""

from __future__ import annotations

from aiokafka.admin import NewTopic

from streams.config import Settings

#: the worker's one state table (streams/worker/stores.py): its databases are
#: `<tabledir>/state-<partition>.db`
STATE_TABLE = "state"


def state_changelog(app_id: str) -> str:
    """The state table's changelog topic."""
    return f"{app_id}-{STATE_TABLE}-changelog"


def worker_topics(settings: Settings) -> list[NewTopic]:
    """The state table's changelog (compacted, a partition per state partition) and faust's
    leader assignor topic (one partition), with the configuration faust would give them."""
    app_id, replicas = settings.app_id, settings.replication_factor
    return [
        NewTopic(
            state_changelog(app_id),
            settings.partitions,
            replicas,
            topic_configs={"cleanup.policy": "compact"},
        ),
        NewTopic(f"{app_id}-__assignor-__leader", 1, replicas),
    ]
