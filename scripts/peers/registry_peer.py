"""Produce and consume schema-registry framed Avro, as an outside team would.

A peer for streamscore's registry support, built on confluent-kafka's own
schema-registry Avro serde: records are framed as Confluent's wire format
(magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro
binary body), and schemas are registered and fetched through any
Confluent-compatible registry (scripts/registry/registry.sh runs one).

    python registry_peer.py produce --registry URL --topic T <events.jsonl
    python registry_peer.py consume --registry URL --topic T --count N

produce reads one CardTransaction per line of stdin as JSON (Avro longs,
event_time included, as numbers or decimal strings; null for absent
optional fields), registers the schema under the topic's value subject
(TopicNameStrategy: "<topic>-value") if it is not registered yet, and
produces each event keyed by its --key-field (default account_id, as
streamscore's sample stream keys them), UTF-8, unframed. It prints
{"produced": n, "schema_id": id}. Exit codes: 0 all delivered, 1 a bad
line, a registry or Kafka error (nothing after a bad line is produced).

consume reads --count records from the start of the topic, in a group of
its own (read_committed, nothing committed), decodes each with the writer
schema fetched from the registry by the id in its framing, and prints one
JSON object per record: the decoded fields (timestamp-millis as epoch
milliseconds, as on the wire) plus "_partition", "_offset", "_key" and
"_schema_id". Exit codes: 0 read --count records, 1 a registry or Kafka
error or a record that does not decode, 2 fewer than --count records
within --timeout seconds.
"""

import argparse
import json
import os
import re
import struct
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import (AvroDeserializer,
                                                  AvroSerializer)
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import (MessageField, SerializationContext,
                                           SerializationError)

try:  # the registry client's HTTP library: httpx2 on Python 3.10+, else httpx
    from httpx2 import TransportError
except ImportError:  # pragma: no cover
    from httpx import TransportError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schemas/card-transaction.avsc"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
INTEGER = re.compile(r"-?[0-9]+")


class Failure(Exception):
    """An error already worded for the user: exit 1."""


REGISTRY_TIMEOUT_SECONDS = 10


def registry_client(url):
    # confluent-kafka's client waits forever on a stalled request by default
    # (httpx with no timeout); with one, a stall is retried like a refused
    # connection, and a registry that stays away fails with its reason.
    return SchemaRegistryClient({"url": url, "timeout": REGISTRY_TIMEOUT_SECONDS})


def registry_error(error):
    if isinstance(error, TransportError):
        return f"schema registry unreachable: {error}"
    return (f"schema registry: HTTP {error.http_status_code}, "
            f"error_code {error.error_code}: {error.error_message}")


def schema_id_of(value):
    """The schema id in a Confluent-framed value, or None if unframed."""
    if value is None or len(value) < 5 or value[0] != 0:
        return None
    return struct.unpack(">I", value[1:5])[0]


def topic_exists(client, topic):
    metadata = client.list_topics(topic, timeout=10).topics.get(topic)
    if metadata is None:
        return False
    if metadata.error is not None:
        if metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return False
        raise KafkaException(metadata.error)
    return True


# ---------------------------------------------------------------- produce

def long_fields(schema):
    """Names of the record's fields that are Avro longs (or nullable longs)."""
    def is_long(branch):
        if isinstance(branch, dict):
            branch = branch.get("type")
        return branch == "long"

    names = set()
    for field in schema.get("fields", []):
        kind = field["type"]
        branches = kind if isinstance(kind, list) else [kind]
        if any(is_long(branch) for branch in branches):
            names.add(field["name"])
    return names


def parse_event(line, longs):
    """One JSON line as a dict; decimal strings in long fields become ints."""
    event = json.loads(line)
    if not isinstance(event, dict):
        raise ValueError(f"expected a JSON object, got {type(event).__name__}")
    for name in longs:
        value = event.get(name)
        if isinstance(value, str) and INTEGER.fullmatch(value):
            event[name] = int(value)
    return event


def produce(args):
    schema_str = Path(args.schema).read_text(encoding="utf-8")
    longs = long_fields(json.loads(schema_str))
    serializer = AvroSerializer(
        registry_client(args.registry), schema_str,
        conf={"auto.register.schemas": True})  # TopicNameStrategy: the default
    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "log_level": 4,  # warnings and errors only, not teardown notices
    })
    if not topic_exists(producer, args.topic):
        raise Failure(f"topic {args.topic} does not exist")

    failures = []
    delivered = 0

    def on_delivery(error, message):
        nonlocal delivered
        if error is not None:
            failures.append(error)
        else:
            delivered += 1

    context = SerializationContext(args.topic, MessageField.VALUE)
    schema_id = None
    sent = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            event = parse_event(line, longs)
            value = serializer(event, context)
        except (SchemaRegistryError, TransportError) as error:
            raise Failure(registry_error(error)) from error
        except (ValueError, TypeError, SerializationError) as error:
            # Already sent events are still delivered before the exit.
            producer.flush(30)
            raise Failure(f"stdin line {number}: not a CardTransaction: "
                          f"{error}") from error
        key = event.get(args.key_field)
        schema_id = schema_id_of(value)
        while True:
            try:
                producer.produce(
                    args.topic, value=value,
                    key=None if key is None else str(key).encode("utf-8"),
                    on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        sent += 1
        producer.poll(0)

    remaining = producer.flush(args.timeout)
    if failures:
        raise Failure(f"{len(failures)} of {sent} events not delivered: "
                      f"{failures[0]}")
    if remaining:
        raise Failure(f"{remaining} of {sent} events not delivered within "
                      f"{args.timeout} s")
    print(json.dumps({"produced": delivered, "schema_id": schema_id}))
    return 0


# ---------------------------------------------------------------- consume

def as_json(value):
    """fastavro reads timestamp-millis as UTC datetimes: back to ms."""
    if isinstance(value, datetime):
        return (value - EPOCH) // timedelta(milliseconds=1)  # exact
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def consume(args):
    deserializer = AvroDeserializer(registry_client(args.registry))
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        # A group of its own that commits nothing: it takes no partitions
        # from anyone and leaves no offsets behind.
        "group.id": args.group or f"registry-peer-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    read = 0
    reported = set()
    deadline = time.monotonic() + args.timeout
    try:
        consumer.subscribe([args.topic])
        while read < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"error: read {read} of {args.count} records from "
                      f"{args.topic} in {args.timeout} s", file=sys.stderr)
                return 2
            message = consumer.poll(min(left, 1.0))
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                # Say so once, and keep waiting (the topic may appear).
                if error.code() not in reported:
                    reported.add(error.code())
                    print(f"warning: {error}", file=sys.stderr)
                continue
            value = message.value()
            context = SerializationContext(message.topic(), MessageField.VALUE,
                                           message.headers())
            where = f"partition {message.partition()} offset {message.offset()}"
            try:
                record = deserializer(value, context)
            except (SchemaRegistryError, TransportError) as error:
                raise Failure(f"{where}: {registry_error(error)}") from error
            except SerializationError as error:
                raise Failure(f"{where}: does not decode: {error}") from error
            if not isinstance(record, dict):
                raise Failure(f"{where}: decoded to {type(record).__name__}, "
                              "not a record")
            key = message.key()
            record.update({
                "_partition": message.partition(),
                "_offset": message.offset(),
                "_key": None if key is None else key.decode("utf-8", "replace"),
                "_schema_id": schema_id_of(value),
            })
            print(json.dumps(record, default=as_json), flush=True)
            read += 1
    finally:
        consumer.close()
    return 0


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(
        description="Produce or consume schema-registry framed Avro "
                    "(confluent-kafka's serde).")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(command):
        command.add_argument("--bootstrap", default="127.0.0.1:9092",
                             help="bootstrap servers (default: %(default)s)")
        command.add_argument(
            "--registry", required=True,
            help="registry base URL, e.g. "
                 "http://127.0.0.1:8081/apis/ccompat/v7")
        command.add_argument("--topic", required=True)

    p = commands.add_parser("produce", help="JSON lines on stdin to the topic")
    common(p)
    p.add_argument("--schema", default=str(SCHEMA),
                   help="writer schema (default: the repository's "
                        "card-transaction.avsc)")
    p.add_argument("--key-field", default="account_id",
                   help="field whose value keys the record "
                        "(default: %(default)s)")
    p.add_argument("--timeout", type=float, default=30,
                   help="seconds to wait for deliveries (default: "
                        "%(default)s)")

    c = commands.add_parser("consume", help="records to JSON lines on stdout")
    common(c)
    c.add_argument("--count", type=int, required=True,
                   help="records to read")
    c.add_argument("--timeout", type=float, default=30,
                   help="seconds to read them in (default: %(default)s)")
    c.add_argument("--group",
                   help="consumer group id (default: new for each run)")

    args = parser.parse_args()
    try:
        return produce(args) if args.command == "produce" else consume(args)
    except Failure as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (SchemaRegistryError, TransportError) as error:
        print(f"error: {registry_error(error)}", file=sys.stderr)
        return 1
    except KafkaException as error:
        print(f"error: {args.topic}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # piped into head, say: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
