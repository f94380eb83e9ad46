"""The job store in a DynamoDB table, shared by any number of instances.

One partition per job (``jobId``), sorted by ``part``: ``record`` holds the
lifecycle record (compressed JSON, with its ``version`` beside it for
conditional writes); ``blob#NAME#NNNN`` hold a blob in chunks, since an item
is capped at 400 KB and a 100-item import's certificates are not. Two sparse
indexes: ``open`` (only open jobs carry the attribute, so the watcher's
query doesn't grow with finished jobs) and ``listing`` (records only, newest
first, for paging). A name a job serves is claimed by an item of its own
(partition ``name#NAME``), written conditionally, so of two submissions
naming it at once only one gets it. An Idempotency-Key is claimed likewise
(partition ``idempotency#SHA256``), with an ``expires`` attribute that
DynamoDB's TTL may be pointed at to remove claims past their day; the day
is checked on every read, so nothing depends on that. An event's delivery
is an item of its own (partition ``delivery#ID``) listed, oldest event
first, through the ``listing`` index under a kind of its own.

The table is created on first use, on demand (pay per request).
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError

from provisioning.errors import BadPageToken, DamagedJob, NamesHeld, StaleRecord
from provisioning.jobs.record import JobRecord
from provisioning.jobs.store import (
    IDEMPOTENCY_SECONDS,
    NAMES,
    Delivery,
    KeyClaim,
    Listed,
    decode_token,
    encode_token,
    holds_key,
    holds_names,
    now,
    queue_of,
    unreadable,
    with_names,
)

RECORD = "record"
PARALLEL_REQUESTS = 16  # DynamoDB requests in flight at once for one caller
BATCH_GET = 100  # DynamoDB's limit of keys per BatchGetItem
T = TypeVar("T")
CLAIM = "claim"
CHUNK = 300_000  # bytes of blob per item, well under DynamoDB's 400 KB
OPEN_INDEX = "open"
LISTING_INDEX = "listing"
JOB_KIND = "job"
DELIVERY = "delivery"


class DynamoDBJobStore:
    def __init__(self, table: str, client: Any) -> None:
        """``client``: the process's DynamoDB client (``AwsClients.client``)."""
        self.table = table
        self.client = client
        ensure_table(self.client, table)

    def create(
        self, record: JobRecord, blobs: dict[str, bytes], names: tuple[str, ...] = ()
    ) -> None:
        for name, data in with_names(blobs, names).items():
            self.put_blob(record.jobId, name, data)
        try:
            self.claim(record.jobId, names)
        except NamesHeld:
            self.delete(record.jobId)
            raise
        self.write(record.stamped(now()), "attribute_not_exists(jobId)", {})

    def get(self, job_id: str) -> JobRecord | None:
        found = self.record_item(job_id)
        return None if found is None else decoded(job_id, found)

    def record_item(self, job_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.client.get_item(
            TableName=self.table,
            Key={"jobId": {"S": job_id}, "part": {"S": RECORD}},
            ConsistentRead=True,
        ).get("Item")
        return found

    def salvage(self, record: JobRecord) -> JobRecord:
        """Conditional on the damaged item's own version attribute, which
        stands beside the body that can't be read."""
        found = self.record_item(record.jobId)
        if found is None:
            raise StaleRecord(record.jobId)
        try:
            decoded(record.jobId, found)
        except DamagedJob:
            written = record.stamped(now())
            if "version" in found:
                self.write(written, "version = :read", {":read": found["version"]})
            else:
                self.write(written, "attribute_exists(jobId) AND attribute_not_exists(version)", {})
            return written
        raise StaleRecord(record.jobId)

    def put(self, record: JobRecord) -> JobRecord:
        written = record.stamped(now())
        self.write(written, "version = :read", {":read": {"N": str(record.version)}})
        return written

    def write(self, record: JobRecord, condition: str, values: dict[str, Any]) -> None:
        item: dict[str, Any] = {
            "jobId": {"S": record.jobId},
            "part": {"S": RECORD},
            "version": {"N": str(record.version)},
            "kind": {"S": JOB_KIND},
            "created": {"S": f"{record.creationDate}#{record.jobId}"},
            "body": {"B": zlib.compress(record.model_dump_json().encode())},
        }
        if record.open:
            item["open"] = {"S": "1"}
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleRecord(record.jobId) from None
            raise

    def unfinished(self) -> list[str]:
        found = self.query(
            IndexName=OPEN_INDEX,
            KeyConditionExpression="#open = :yes",
            ExpressionAttributeNames={"#open": "open"},
            ExpressionAttributeValues={":yes": {"S": "1"}},
            ProjectionExpression="jobId",
        )
        return sorted(item["jobId"]["S"] for item in found)

    def page(self, limit: int, after: str | None) -> tuple[list[Listed], str | None]:
        """The listing index projects only keys; each page's records are then
        read whole (consistently) by key, a hundred per request."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LISTING_INDEX,
            "KeyConditionExpression": "kind = :job",
            "ExpressionAttributeValues": {":job": {"S": JOB_KIND}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after is not None:
            start = decode_token(after)
            if not isinstance(start, dict):
                raise BadPageToken(after)
            request["ExclusiveStartKey"] = start
        try:
            answer = self.client.query(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ValidationException":
                raise BadPageToken(after or "") from None
            raise
        ids = [item["jobId"]["S"] for item in answer["Items"]]
        items = self.items_by_key(ids, RECORD)
        listed = [readable(job_id, items[job_id]) for job_id in ids if job_id in items]
        last = answer.get("LastEvaluatedKey")
        return listed, encode_token(last) if last else None

    def items_by_key(self, job_ids: list[str], part: str) -> dict[str, dict[str, Any]]:
        """Partition key -> its ``part`` item, read consistently, a hundred
        per request."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(job_ids), BATCH_GET):
            keys = [
                {"jobId": {"S": job_id}, "part": {"S": part}}
                for job_id in job_ids[start : start + BATCH_GET]
            ]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table, []):
                    found[item["jobId"]["S"]] = item
                request = answer.get("UnprocessedKeys") or {}
        return found

    def holders(self, names: tuple[str, ...]) -> dict[str, str]:
        found = {}
        for name in names:
            claim = self.claim_item(name)
            if claim is not None and holds_names(self, *claimant(claim)):
                found[name] = claimant(claim)[0]
        return found

    def claim(self, job_id: str, names: tuple[str, ...]) -> None:
        """Claims every name, or none: names taken before one turned out to
        be held are released again."""
        taken: list[str] = []
        held: dict[str, str] = {}
        for name, holder in zip(
            names, concurrently(lambda n: self.take(job_id, n), names), strict=True
        ):
            if holder is None:
                taken.append(name)
            else:
                held[name] = holder
        if held:
            self.release(job_id, taken)
            raise NamesHeld(held)

    def take(self, job_id: str, name: str) -> str | None:
        """Claims ``name`` for the job, or returns the live job holding it. A
        claim whose job no longer holds it is taken over by a write
        conditional on that very claim, so two takers never both win."""
        claim = {"holder": {"S": job_id}, "claimedAt": {"N": repr(time.time())}}
        condition = "attribute_not_exists(jobId) OR holder = :me"
        values: dict[str, Any] = {":me": {"S": job_id}}
        while True:
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item={**claim_key(name), **claim},
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
                return None
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            found = self.claim_item(name)
            if found is None:  # released meanwhile
                condition, values = "attribute_not_exists(jobId)", {}
                continue
            if holds_names(self, *claimant(found)):
                return claimant(found)[0]
            condition = "holder = :them AND claimedAt = :at"
            values = {":them": found["holder"], ":at": found["claimedAt"]}

    def claim_item(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.client.get_item(
            TableName=self.table, Key=claim_key(name), ConsistentRead=True
        ).get("Item")
        return found

    def release(self, job_id: str, names: list[str]) -> None:
        for name in names:
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key=claim_key(name),
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues={":me": {"S": job_id}},
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def claim_key(self, claim: KeyClaim) -> KeyClaim | None:
        """A claim that no longer holds the key is taken over by a write
        conditional on that very claim, so two takers never both win."""
        condition, values = "attribute_not_exists(jobId)", {}
        while True:
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item=key_item(claim),
                    ConditionExpression=condition,
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
                return None
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
            found: dict[str, Any] | None = self.client.get_item(
                TableName=self.table, Key=key_key(claim.key), ConsistentRead=True
            ).get("Item")
            if found is None:  # released meanwhile
                condition, values = "attribute_not_exists(jobId)", {}
                continue
            held = key_claim(claim.key, found)
            if holds_key(self, held, claim.at):
                return held
            condition = "holder = :them AND claimedAt = :at"
            values = {":them": found["holder"], ":at": found["claimedAt"]}

    def settle_key(self, claim: KeyClaim) -> None:
        done = claim.model_copy(update={"done": True})
        self.if_still(claim, self.client.put_item, Item=key_item(done))

    def release_key(self, claim: KeyClaim) -> None:
        self.if_still(claim, self.client.delete_item, Key=key_key(claim.key))

    def if_still(self, claim: KeyClaim, call: Callable[..., Any], **request: Any) -> None:
        """``call``s if ``claim`` is still the key's claim."""
        try:
            call(
                TableName=self.table,
                ConditionExpression="holder = :me AND claimedAt = :at AND done = :done",
                ExpressionAttributeValues={
                    ":me": {"S": claim.job_id},
                    ":at": {"N": repr(claim.at)},
                    ":done": {"BOOL": claim.done},
                },
                **request,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        def add(delivery: Delivery) -> None:
            try:
                self.write_delivery(delivery, "attribute_not_exists(jobId)", {})
            except StaleRecord:
                pass  # stored already

        concurrently(add, deliveries)

    def deliveries(self, target: str, limit: int) -> list[Delivery]:
        answer = self.client.query(
            TableName=self.table,
            IndexName=LISTING_INDEX,
            KeyConditionExpression="kind = :delivery AND begins_with(created, :queue)",
            ExpressionAttributeValues={
                ":delivery": {"S": DELIVERY},
                ":queue": {"S": f"{queue_of(target)}#"},
            },
            Limit=limit,
        )
        ids = [key["jobId"]["S"] for key in answer["Items"]]
        items = self.items_by_key(ids, DELIVERY)
        return [
            Delivery.model_validate_json(zlib.decompress(items[key]["body"]["B"]))
            for key in ids
            if key in items
        ]

    def put_delivery(self, delivery: Delivery) -> Delivery:
        written = delivery.model_copy(update={"version": delivery.version + 1})
        self.write_delivery(written, "version = :read", {":read": {"N": str(delivery.version)}})
        return written

    def write_delivery(self, delivery: Delivery, condition: str, values: dict[str, Any]) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "jobId": {"S": f"{DELIVERY}#{delivery.id}"},
                    "part": {"S": DELIVERY},
                    "version": {"N": str(delivery.version)},
                    "kind": {"S": DELIVERY},
                    "created": {"S": f"{delivery.queue}#{delivery.order}#{delivery.id}"},
                    "body": {"B": zlib.compress(delivery.model_dump_json().encode())},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleRecord(delivery.id) from None
            raise

    def drop_delivery(self, delivery: Delivery) -> None:
        self.client.delete_item(
            TableName=self.table,
            Key={"jobId": {"S": f"{DELIVERY}#{delivery.id}"}, "part": {"S": DELIVERY}},
        )

    def get_blob(self, job_id: str, name: str) -> bytes | None:
        chunks = self.query(
            KeyConditionExpression="jobId = :id AND begins_with(part, :blob)",
            ExpressionAttributeValues={":id": {"S": job_id}, ":blob": {"S": f"blob#{name}#"}},
            ConsistentRead=True,
        )
        if not chunks:
            return None
        chunks.sort(key=lambda item: item["part"]["S"])
        return b"".join(bytes(item["data"]["B"]) for item in chunks)

    def put_blob(self, job_id: str, name: str, data: bytes) -> None:
        """Only a job's lease holder (or its submitter) writes its blobs, so
        chunks of one blob are never written by two writers at once."""
        stale = {item["part"]["S"] for item in self.blob_keys(job_id, name)}
        pieces = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        for index, piece in enumerate(pieces):
            part = f"blob#{name}#{index:04d}"
            stale.discard(part)
            self.client.put_item(
                TableName=self.table,
                Item={"jobId": {"S": job_id}, "part": {"S": part}, "data": {"B": piece}},
            )
        self.delete_parts(job_id, stale)

    def delete_blob(self, job_id: str, name: str) -> None:
        self.delete_parts(job_id, {item["part"]["S"] for item in self.blob_keys(job_id, name)})

    def delete(self, job_id: str) -> None:
        """Claims first, then blobs, record last: a record is never left
        pointing at nothing, and a half-done delete is finished by the next.
        With its list of names unreadable, the job's claims lapse instead,
        once the job is gone (see ``holds_names``)."""
        try:
            names = json.loads(self.get_blob(job_id, NAMES) or b"[]")
        except ValueError:
            names = []
        if isinstance(names, list):
            self.release(job_id, [str(name) for name in names])
        parts = {
            item["part"]["S"]
            for item in self.query(
                KeyConditionExpression="jobId = :id",
                ExpressionAttributeValues={":id": {"S": job_id}},
                ProjectionExpression="part",
                ConsistentRead=True,
            )
        }
        self.delete_parts(job_id, parts - {RECORD})
        self.delete_parts(job_id, parts & {RECORD})

    def blob_keys(self, job_id: str, name: str) -> list[dict[str, Any]]:
        return self.query(
            KeyConditionExpression="jobId = :id AND begins_with(part, :blob)",
            ExpressionAttributeValues={":id": {"S": job_id}, ":blob": {"S": f"blob#{name}#"}},
            ProjectionExpression="part",
            ConsistentRead=True,
        )

    def delete_parts(self, job_id: str, parts: set[str]) -> None:
        for part in sorted(parts):
            self.client.delete_item(
                TableName=self.table, Key={"jobId": {"S": job_id}, "part": {"S": part}}
            )

    def query(self, **request: Any) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(TableName=self.table, **request)
        return [item for page in pages for item in page["Items"]]


def concurrently(call: Callable[[str], T], keys: Sequence[str]) -> list[T]:
    """``call`` for every key, in order, several requests in flight at once:
    a request of 100 names waits for a few round trips, not 100."""
    if len(keys) <= 1:
        return [call(key) for key in keys]
    with ThreadPoolExecutor(max_workers=min(len(keys), PARALLEL_REQUESTS)) as pool:
        return list(pool.map(call, keys))


def readable(job_id: str, item: dict[str, Any]) -> Listed:
    try:
        return decoded(job_id, item)
    except DamagedJob as damage:
        return damage


def decoded(job_id: str, item: dict[str, Any]) -> JobRecord:
    created = str(item.get("created", {}).get("S", "")).rpartition("#")[0]
    try:
        body = zlib.decompress(bytes(item["body"]["B"]))
    except (KeyError, TypeError, zlib.error):
        raise DamagedJob(job_id, "record", "its body is not compressed JSON", created) from None
    try:
        return JobRecord.model_validate_json(body)
    except ValidationError as error:
        raise DamagedJob(job_id, "record", unreadable(error), created) from None


def claim_key(name: str) -> dict[str, Any]:
    return {"jobId": {"S": f"name#{name}"}, "part": {"S": CLAIM}}


def claimant(claim: dict[str, Any]) -> tuple[str, float]:
    return str(claim["holder"]["S"]), float(claim["claimedAt"]["N"])


def key_key(key: str) -> dict[str, Any]:
    return {"jobId": {"S": f"idempotency#{key}"}, "part": {"S": CLAIM}}


def key_item(claim: KeyClaim) -> dict[str, Any]:
    return {
        **key_key(claim.key),
        "holder": {"S": claim.job_id},
        "claimedAt": {"N": repr(claim.at)},
        "bodyHash": {"S": claim.body},
        "done": {"BOOL": claim.done},
        "expires": {"N": str(math.ceil(claim.at + IDEMPOTENCY_SECONDS))},
    }


def key_claim(key: str, item: dict[str, Any]) -> KeyClaim:
    return KeyClaim(
        key=key,
        body=str(item["bodyHash"]["S"]),
        job_id=str(item["holder"]["S"]),
        at=float(item["claimedAt"]["N"]),
        done=bool(item["done"]["BOOL"]),
    )


def ensure_table(client: Any, table: str) -> None:
    """Creates the table unless it exists; another instance creating it at the
    same moment is fine: both wait until it is active."""
    try:
        status = client.describe_table(TableName=table)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        status = create_table(client, table)
    while status != "ACTIVE":
        time.sleep(1)
        status = client.describe_table(TableName=table)["Table"]["TableStatus"]


def create_table(client: Any, table: str) -> str:
    def index(name: str, key: str, sort: str, projection: str) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": projection},
        }

    try:
        created = client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("jobId", "part", "open", "kind", "created")
            ],
            KeySchema=[
                {"AttributeName": "jobId", "KeyType": "HASH"},
                {"AttributeName": "part", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                index(OPEN_INDEX, "open", "jobId", "KEYS_ONLY"),
                index(LISTING_INDEX, "kind", "created", "KEYS_ONLY"),
            ],
        )
    except client.exceptions.ResourceInUseException:
        return "CREATING"
    return str(created["TableDescription"]["TableStatus"])
