"""The job store in a DynamoDB table, shared by any number of instances.

One partition per job (``jobId``), sorted by ``part``: ``record`` holds the
lifecycle record (compressed JSON, with its ``version`` beside it for
conditional writes); ``blob#NAME#NNNN`` hold a blob in chunks, since an item
is capped at 400 KB and a 100-item import's certificates are not. Two sparse
indexes: ``open`` (only open jobs carry the attribute, so the watcher's
query doesn't grow with finished jobs) and ``listing`` (records only, newest
first, for paging).

The table is created on first use, on demand (pay per request).
"""

from __future__ import annotations

import time
import zlib
from typing import Any

from botocore.exceptions import ClientError

from provisioning import aws_clients
from provisioning.job_store import (
    BadPageToken,
    JobRecord,
    StaleRecord,
    decode_token,
    encode_token,
    stamped,
)

RECORD = "record"
CHUNK = 300_000  # bytes of blob per item, well under DynamoDB's 400 KB
OPEN_INDEX = "open"
LISTING_INDEX = "listing"
JOB_KIND = "job"


class DynamoDBJobStore:
    def __init__(self, table: str) -> None:
        self.table = table
        self.client = aws_clients.client("dynamodb")
        ensure_table(self.client, table)

    def create(self, record: JobRecord, blobs: dict[str, bytes]) -> None:
        for name, data in blobs.items():
            self.put_blob(record.jobId, name, data)
        self.write(stamped(record), "attribute_not_exists(jobId)", {})

    def get(self, job_id: str) -> JobRecord | None:
        found = self.client.get_item(
            TableName=self.table,
            Key={"jobId": {"S": job_id}, "part": {"S": RECORD}},
            ConsistentRead=True,
        ).get("Item")
        return None if found is None else decoded(found)

    def put(self, record: JobRecord) -> JobRecord:
        written = stamped(record)
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

    def page(self, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        """The listing index projects only keys; each page's records are then
        read whole (consistently) by key."""
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
        records = [r for item in answer["Items"] if (r := self.get(item["jobId"]["S"]))]
        last = answer.get("LastEvaluatedKey")
        return records, encode_token(last) if last else None

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
        """Blobs first, record last: a record is never left pointing at
        nothing, and a half-done delete is finished by the next."""
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


def decoded(item: dict[str, Any]) -> JobRecord:
    return JobRecord.model_validate_json(zlib.decompress(bytes(item["body"]["B"])))


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
