"""Read streamscore's shadow comparisons from Kafka, as an analyst would.

Comparison records are plain Avro binary written with
schemas/comparison.avsc (no schema-registry framing), so fastavro's
schemaless reader decodes them with that schema alone. The topic is read
once, from the beginning up to the end offsets it had at the start, and
read_committed: records of aborted transactions are never seen.

    python read_comparisons.py --topic predictions.comparisons
    python read_comparisons.py --topic predictions.comparisons --summary

Prints one JSON object per record: partition, offset, key, Kafka
timestamp and the decoded comparison, whose event_time and compared_time
are epoch milliseconds as on the wire. --summary prints figures per
challenger variant instead. Records that are not comparisons are named
on stderr and skipped. Exit codes: 0 read to the end, 1 Kafka error or
no progress, 2 no such topic.
"""

import argparse
import io
import json
import os
import sys
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,
                             KafkaException, TopicPartition)
from fastavro import schemaless_reader
from fastavro.schema import load_schema

SCHEMA = Path(__file__).resolve().parents[2] / "schemas/comparison.avsc"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class TopicMissing(Exception):
    pass


def read(bootstrap, topic, group, stall_s):
    """Yield the topic's messages up to its end offsets as of the call."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        # A group of its own that commits nothing: it takes no partitions
        # from anyone and leaves no offsets behind.
        "group.id": group,
        "enable.auto.commit": False,
        # Never deliver records of aborted transactions.
        "isolation.level": "read_committed",
        # Report reaching a partition's end as an event.
        "enable.partition.eof": True,
    })
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            if metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicMissing(f"topic {topic} does not exist")
            raise KafkaException(metadata.error)
        # read_committed: the high watermark is the last stable offset,
        # as far as this consumer can read.
        ends = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
        # Assigned, not subscribed: every partition from its first offset,
        # and no rebalance to wait for.
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)
                         for partition in ends])
        while ends:
            message = consumer.poll(stall_s)
            if message is None:
                raise TimeoutError(f"no progress for {stall_s} s "
                                   f"on partitions {sorted(ends)}")
            partition, offset = message.partition(), message.offset()
            end = ends.get(partition)
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(error)
                # Transaction markers take offsets but are never delivered,
                # so only this event may say that the end was reached.
                if end is not None and offset >= end:
                    del ends[partition]
            elif end is not None and offset < end:
                yield message
                if offset + 1 == end:
                    del ends[partition]
    finally:
        consumer.close()


def decode(schema, value):
    """The comparison in `value` as a dict, or None if it is not one."""
    buffer = io.BytesIO(value or b"")
    try:
        record = schemaless_reader(buffer, schema)
    except (EOFError, IndexError, OverflowError, UnicodeDecodeError,
            ValueError):
        return None
    # Bytes left over: not a comparison either.
    return record if buffer.tell() == len(buffer.getvalue()) else None


def decoded(schema, messages):
    """Yield (message, comparison), naming the others on stderr."""
    for message in messages:
        comparison = decode(schema, message.value())
        if comparison is None:
            print(f"partition {message.partition()} offset "
                  f"{message.offset()}: not a comparison record, skipped",
                  file=sys.stderr)
        else:
            yield message, comparison


def epoch_ms(value):
    """fastavro reads timestamp-millis as UTC datetimes: back to ms."""
    if isinstance(value, datetime):
        return (value - EPOCH) // timedelta(milliseconds=1)  # exact
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def summarize(comparisons):
    """Per challenger variant: statuses, agreement rate, flips."""
    variants = defaultdict(lambda: {"status": Counter(), "comparable": 0,
                                    "agree": 0, "flips": Counter()})
    for comparison in comparisons:
        figures = variants[comparison["challenger"]["variant"]]
        figures["status"][comparison["challenger"]["status"]] += 1
        # agree is null unless both models scored the event.
        if comparison["agree"] is not None:
            figures["comparable"] += 1
            figures["agree"] += comparison["agree"]
        if comparison["flip"] != "NONE":
            figures["flips"][comparison["flip"]] += 1
    return {
        variant: {
            "records": sum(f["status"].values()),
            "status": dict(f["status"]),
            "comparable": f["comparable"],
            "agreement_rate": (f["agree"] / f["comparable"]
                               if f["comparable"] else None),
            "flips": dict(f["flips"]),
        }
        for variant, f in sorted(variants.items())
    }


def json_line(message, comparison):
    key = message.key()
    return json.dumps({
        "partition": message.partition(),
        "offset": message.offset(),
        "key": None if key is None else key.decode("utf-8", "replace"),
        "timestamp": message.timestamp()[1],
        "comparison": comparison,
    }, default=epoch_ms)


def main():
    parser = argparse.ArgumentParser(
        description="Read streamscore's comparison records from Kafka.")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092",
                        help="bootstrap servers (default: %(default)s)")
    parser.add_argument("--topic", required=True,
                        help="comparison topic, e.g. predictions.comparisons")
    parser.add_argument("--group",
                        help="consumer group id (default: new for each run)")
    parser.add_argument("--schema", default=str(SCHEMA),
                        help="comparison.avsc (default: the repository's)")
    parser.add_argument("--stall-timeout", type=float, default=30,
                        help="seconds without progress before giving up")
    parser.add_argument("--summary", action="store_true",
                        help="print figures per challenger variant")
    args = parser.parse_args()

    schema = load_schema(args.schema)
    group = args.group or f"read-comparisons-{uuid.uuid4()}"
    messages = read(args.bootstrap, args.topic, group, args.stall_timeout)
    records = decoded(schema, messages)
    try:
        if args.summary:
            figures = summarize(comparison for _, comparison in records)
            total = sum(variant["records"] for variant in figures.values())
            print(json.dumps({"records": total, "challengers": figures},
                             indent=2))
        else:
            for message, comparison in records:
                print(json_line(message, comparison))
    except TopicMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (KafkaException, TimeoutError) as error:
        print(f"error: reading {args.topic}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # piped into head, say: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
