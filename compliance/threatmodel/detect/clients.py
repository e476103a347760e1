"""What we recognise in calls: HTTP clients and functions, SDK clients (boto3 services and the
operations that name a bucket, queue, topic or stream), Kafka and Pub/Sub clients, app
classes, connection calls; and small helpers for reading call arguments."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from compliance.threatmodel.detect import tables
from compliance.threatmodel.detect.tables import Spec
from compliance.threatmodel.detect.values import keyword
from compliance.threatmodel.facts import FactKind

VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
#: Module-level HTTP functions -> position of the URL argument.
HTTP_FUNCTIONS: dict[str, int] = {
    **{f"requests.{v}": 0 for v in VERBS},
    **{f"httpx.{v}": 0 for v in VERBS},
    "requests.request": 1,
    "httpx.request": 1,
    "httpx.stream": 1,
    "urllib.request.urlopen": 0,
    "urllib.request.Request": 0,
    "aiohttp.request": 1,
}
HTTP_CLIENTS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "urllib3.PoolManager",
    }
)
#: Client methods -> position of the URL argument.
HTTP_METHODS: dict[str, int] = {
    **dict.fromkeys(VERBS, 0),
    "request": 1,
    "stream": 1,
    "ws_connect": 0,
}
KAFKA_PRODUCERS = frozenset(
    {"kafka.KafkaProducer", "confluent_kafka.Producer", "aiokafka.AIOKafkaProducer"}
)
KAFKA_CONSUMERS = frozenset(
    {"kafka.KafkaConsumer", "confluent_kafka.Consumer", "aiokafka.AIOKafkaConsumer"}
)
APP_CLASSES = frozenset(
    {"Flask", "Blueprint", "FastAPI", "APIRouter", "Starlette", "Sanic", "Quart", "Bottle"}
    | {"Litestar", "Application", "App"}
)
CALL_SITES = frozenset({"connect", "create_pool", "from_url", "encode", "decode"})
SQLALCHEMY_ENGINES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
    }
)
SERVICER = re.compile(r"^add_(\w+)Servicer_to_server$")


@dataclass(frozen=True, slots=True)
class Resource:
    """A boto3 service whose calls name a resource: the fact family and the operations."""

    spec: Spec
    noun: str
    #: operation -> (role tag or "", keyword naming the resource, its position or -1)
    operations: dict[str, tuple[str, str, int]]


_S3_READ = ("object-storage:read", "Bucket")
_S3_WRITE = ("object-storage:write", "Bucket")
BOTO3: dict[str, Resource | Spec] = {
    "s3": Resource(
        Spec("object-storage:s3", FactKind.OBJECT_STORAGE, "Amazon S3", ("object-storage",)),
        "S3 bucket",
        {
            "download_file": (*_S3_READ, 0),
            "download_fileobj": (*_S3_READ, 0),
            **dict.fromkeys(("get_object", "head_object", "list_objects"), (*_S3_READ, -1)),
            **dict.fromkeys(("list_objects_v2", "select_object_content"), (*_S3_READ, -1)),
            "upload_file": (*_S3_WRITE, 1),
            "upload_fileobj": (*_S3_WRITE, 1),
            **dict.fromkeys(("put_object", "delete_object", "copy_object"), (*_S3_WRITE, -1)),
            **dict.fromkeys(("delete_objects", "create_multipart_upload"), (*_S3_WRITE, -1)),
            "Bucket": ("", "name", 0),
        },
    ),
    "sqs": Resource(
        Spec("messaging:sqs", FactKind.MESSAGING, "Amazon SQS", ("messaging",)),
        "SQS queue",
        {
            **dict.fromkeys(
                ("receive_message", "delete_message", "delete_message_batch"),
                ("messaging:consume", "QueueUrl", -1),
            ),
            **dict.fromkeys(
                ("send_message", "send_message_batch"), ("messaging:publish", "QueueUrl", -1)
            ),
            "get_queue_url": ("", "QueueName", -1),
        },
    ),
    "sns": Resource(
        Spec("messaging:sns", FactKind.MESSAGING, "Amazon SNS", ("messaging",)),
        "SNS topic",
        {"publish": ("messaging:publish", "TopicArn", -1)},
    ),
    "kinesis": Resource(
        Spec("messaging:kinesis", FactKind.MESSAGING, "Amazon Kinesis", ("messaging",)),
        "Kinesis stream",
        {
            "put_record": ("messaging:publish", "StreamName", -1),
            "put_records": ("messaging:publish", "StreamName", -1),
            "get_shard_iterator": ("messaging:consume", "StreamName", -1),
        },
    ),
    "dynamodb": tables.DYNAMODB,
    "secretsmanager": tables.AWS_SECRETS,
    "ssm": tables.AWS_SSM,
}


def literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def symmetric_jwt(node: ast.Call) -> bool:
    for name in ("algorithm", "algorithms"):
        value = keyword(node, name)
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for item in items:
            text = literal(item)
            if text and text.upper().startswith("HS"):
                return True
    return False


def params_bucket(node: ast.Call) -> ast.expr | None:
    params = keyword(node, "Params")
    if isinstance(params, ast.Dict):
        for key, value in zip(params.keys, params.values, strict=True):
            if literal(key) == "Bucket":
                return value
    return None
